from __future__ import annotations

import pytest

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer


def test_server_address_forms() -> None:
    assert om.server_url("omero.example.org") == "ssl://omero.example.org:4064"
    assert om.server_url("omero.example.org:14064") == "ssl://omero.example.org:14064"
    assert om.server_url("tcp://127.0.0.1:4063") == "tcp://127.0.0.1:4063"
    with pytest.raises(ValueError, match="HOST:PORT"):
        om.server_url("host:port")


def test_connect_joins_the_tokens_session(sandbox: SandboxServer, token: str) -> None:
    conn = om.connect(sandbox.address, token)
    try:
        assert conn.user_name == "demo"
        assert conn.group_name == "Sandbox Lab"
        assert conn.gateway.c.getSessionId() == token
    finally:
        conn.close()


def test_close_leaves_the_users_session_alive(sandbox: SandboxServer, token: str) -> None:
    om.connect(sandbox.address, token).close()
    assert sandbox.state.sessions[token].alive
    om.connect(sandbox.address, token).close()  # the token still works


@pytest.mark.parametrize("bad", ["wrong-token", " "])
def test_wrong_token_raises_login_failed(sandbox: SandboxServer, bad: str) -> None:
    with pytest.raises(om.LoginFailed, match="token"):
        om.connect(sandbox.address, bad)


def test_expired_token_raises_login_failed(sandbox: SandboxServer, token: str) -> None:
    sandbox.expire(token)
    with pytest.raises(om.LoginFailed, match="expired"):
        om.connect(sandbox.address, token)


def test_unreachable_server() -> None:
    with pytest.raises(om.ServerUnreachable, match="Cannot reach the OMERO server"):
        om.connect("tcp://127.0.0.1:9", "token")


def test_groups_listed_with_default_first(conn: om.Connection, sandbox: SandboxServer) -> None:
    groups = conn.list_groups()
    assert [(g.name, g.is_default) for g in groups] == [
        ("Sandbox Lab", True),
        ("Imaging Core", False),
        ("Open Lab", False),
        ("Private Lab", False),
    ]


def test_switch_group_changes_where_objects_go(conn: om.Connection, sandbox: SandboxServer) -> None:
    conn.switch_group("Imaging Core")
    project_id = om.get_or_create_project(conn, "LSM 980")
    stored = sandbox.state.get("Project", project_id)
    assert stored.getDetails().getGroup().getId().getValue() == sandbox.seed.core_group.id
    assert conn.gateway.getEventContext().groupName == "Imaging Core"


def test_switch_to_foreign_group_raises_not_a_member(conn: om.Connection) -> None:
    with pytest.raises(om.NotAMember, match="not a member of the OMERO group 'Other Lab'"):
        conn.switch_group("Other Lab")
    assert conn.group_name == "Sandbox Lab"


def test_socket_buffers_reach_the_communicator_and_the_socket(
    sandbox: SandboxServer, token: str
) -> None:
    from cci_uploader.omero.connection import ice_properties

    mib = 1024 * 1024
    # 8 MiB in the kernel everywhere: Windows keeps what is asked, Linux doubles it.
    assert ice_properties("win32") == {
        "Ice.TCP.SndSize": str(8 * mib),
        "Ice.TCP.RcvSize": str(8 * mib),
    }
    assert ice_properties("darwin") == {
        "Ice.TCP.SndSize": str(4 * mib),
        "Ice.TCP.RcvSize": str(4 * mib),
    }
    conn = om.connect(sandbox.address, token)
    try:
        props = conn.gateway.c.getCommunicator().getProperties()
        expected = ice_properties()
        for key in ("Ice.TCP.SndSize", "Ice.TCP.RcvSize"):
            assert props.getProperty(key) == expected.get(key, "")
        info = conn.gateway.c.getSession().ice_getConnection().getInfo()
        if expected:  # the kernel reports what it granted (Linux: twice the request)
            assert expected["Ice.TCP.SndSize"] == str(4 * mib)
            assert info.sndSize >= 8 * mib
            assert info.rcvSize >= 8 * mib
    finally:
        conn.close()


# -- protocols, and unreachable is not a bad token ------------------------------


@pytest.mark.parametrize("protocol", ["tcp", "ssl", "ws", "wss"])
def test_every_listener_of_the_router_joins(sandbox: SandboxServer, protocol: str) -> None:
    # omero-py: ssl:// (a bare HOST:PORT), tcp://, and ws:// / wss:// with a path.
    conn = om.connect(sandbox.address_for(protocol), sandbox.new_token())
    try:
        assert conn.user_name == "demo" and conn.is_alive()
    finally:
        conn.close()


def test_websocket_addresses_keep_their_path() -> None:
    # omero-py clients.py _check_for_hosturl: the path is the websocket resource.
    assert om.server_url("wss://omero.example.org/omero-ws") == (
        "wss://omero.example.org:443/omero-ws"
    )
    assert om.server_url("ws://h:8080/x/y") == "ws://h:8080/x/y"
    with pytest.raises(ValueError, match="only ws"):
        om.server_url("ssl://h:4064/omero-ws")


def test_keepalive_answering_false_is_still_alive(conn: om.Connection) -> None:
    # ServiceFactoryI.keepAlive(None) returns False on a live session.
    assert conn.gateway.c.sf.keepAlive(None) is False
    assert conn.is_alive()


def test_example_config_pairs_with_the_sandbox_command(sandbox: SandboxServer) -> None:
    # The example config's "localhost:4064" is SSL to omero-py; `cci-uploader
    # sandbox` listens there over SSL (the port is swapped for a free one here).
    import argparse
    from pathlib import Path

    from cci_uploader.cli import sandbox as sandbox_cli
    from cci_uploader.config import load_config
    from cci_uploader.sandbox import DEMO_TOKEN

    example = Path(__file__).resolve().parents[2] / "installer" / "config.example.toml"
    server = load_config([example]).server
    assert om.server_url(server) == "ssl://localhost:4064"
    parser = argparse.ArgumentParser()
    sandbox_cli.register(parser.add_subparsers())
    assert parser.parse_args(["sandbox"]).port == 4064
    sandbox.state.new_token(sandbox.seed.demo_user, DEMO_TOKEN)
    conn = om.connect(f"localhost:{sandbox.ssl_port}", DEMO_TOKEN)
    try:
        assert conn.user_name == "demo"
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("no-such-host.invalid", "was not found.*VPN"),
        ("tcp://127.0.0.1:9", "nothing accepts connections on port 9"),
    ],
)
def test_unreachable_is_not_a_bad_token(address: str, says: str) -> None:
    # BlitzGateway.connect answers False for DNS failures (Ice DNSException is
    # not a SyscallException); the app must not call that a mistyped token.
    with pytest.raises(om.ServerUnreachable, match=f"Cannot reach the OMERO server at .*{says}"):
        om.connect(address, "a-token")


def test_ssl_to_a_plain_tcp_port_is_not_a_bad_token(sandbox: SandboxServer) -> None:
    # IceSSL handshake against a TCP listener: SecurityException/ProtocolException.
    with pytest.raises(om.ServerUnreachable, match="does not speak OMERO over SSL"):
        om.connect(f"127.0.0.1:{sandbox.port}", sandbox.new_token())


def test_plain_tcp_to_the_ssl_port_is_not_a_bad_token(sandbox: SandboxServer) -> None:
    # Neither side speaks first: the connect times out (omero-py ConnectTimeout).
    with pytest.raises(om.ServerUnreachable, match=r"did not answer in time.*4064 SSL"):
        om.connect(f"tcp://127.0.0.1:{sandbox.ssl_port}", sandbox.new_token())


def test_a_bad_token_on_a_reachable_server_is_still_a_bad_token(sandbox: SandboxServer) -> None:
    with pytest.raises(om.LoginFailed, match="mistyped or has expired"):
        om.connect(sandbox.address_for("ssl"), "not-a-token")


def test_websocket_to_a_plain_tcp_port_is_not_a_bad_token(sandbox: SandboxServer) -> None:
    with pytest.raises(om.ServerUnreachable, match="does not speak OMERO over WS"):
        om.connect(f"ws://127.0.0.1:{sandbox.port}/omero-ws", sandbox.new_token())


def test_windows_default_buffers_can_be_emulated(sandbox: SandboxServer, token: str) -> None:
    """What the benchmark uses to measure Ice's Windows default (128 KiB)."""
    from cci_uploader.omero.connection import new_gateway

    small = str(128 * 1024)
    gateway = new_gateway(sandbox.address, {"Ice.TCP.SndSize": small, "Ice.TCP.RcvSize": small})
    try:
        assert gateway.connect(sUuid=token)
        info = gateway.c.getSession().ice_getConnection().getInfo()
        assert 128 * 1024 <= info.sndSize < 1024 * 1024
    finally:
        gateway.close(hard=False)
