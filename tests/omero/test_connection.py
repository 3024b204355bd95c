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
