"""Joining a user's OMERO session with a pasted token, and choosing a group.

This package is the only code that touches omero-py.  Everything here
returns plain values and raises the exceptions in :mod:`.errors`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import Glacier2
import Ice
import omero
import omero.all
from omero.gateway import BlitzGateway

from cci_uploader.omero.errors import (
    ConnectionLost,
    GroupSwitchRefused,
    LoginFailed,
    NotAMember,
    OmeroError,
    PermissionRefused,
    ServerRefused,
    ServerUnreachable,
    SessionExpired,
    StorageFull,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 4064  # the SSL Glacier2 router of a standard OMERO server
KEEPALIVE_SECONDS = 60
_URL = re.compile(
    r"^(?P<proto>tcp|ssl|ws|wss)://(?P<host>[^:/]+)(:(?P<port>\d+))?(?P<path>/[^\s]*)?$"
)
_DEFAULT_PORTS = {"tcp": "4063", "ssl": "4064", "ws": "80", "wss": "443"}

# Socket buffers of every Ice connection (tcp, ssl, ws and wss alike).  The
# send buffer bounds the bytes in flight, so the upload rate is at most
# buffer / RTT: Ice's default on Windows is 128 KiB (IceInternal::setTcpBufSize),
# 4 MB/s at 30 ms.  1 Gbit/s at 30 ms holds 3.75 MB in flight, and the link's
# queues and the acknowledgements' delay want about twice that in the kernel:
# 8 MiB.  Windows keeps what is asked; Linux doubles it (half for its own
# bookkeeping), so it is asked 4 MiB; macOS refuses a buffer beyond its share
# of kern.ipc.maxsockbuf (8 MiB by default), so it is asked 4 MiB too.
# Measured (bench/network.py, 1 Gbit/s, 30 ms): upload phase at 0.95-1.0 of
# the link with 8 MiB in the kernel, 0.60 with 4 MiB as Windows keeps it.
SOCKET_BUFFERS = {"win32": 8 * 1024 * 1024, "linux": 4 * 1024 * 1024, "darwin": 4 * 1024 * 1024}
SOCKET_BUFFER = SOCKET_BUFFERS["win32"]


def _linux_allows(size: int) -> bool:
    """Whether Linux grants a fixed buffer of ``size``: setting one turns off autotuning.

    A fixed buffer is capped at ``net.core.wmem_max``/``rmem_max`` (often
    208 KiB); autotuning alone reaches ``tcp_wmem``'s 4 MiB, so below the
    cap it is better left alone.
    """
    try:
        caps = [
            int(Path(f"/proc/sys/net/core/{name}_max").read_text(encoding="ascii"))
            for name in ("wmem", "rmem")
        ]
    except (OSError, ValueError):
        return False
    return min(caps) >= size


def ice_properties(platform: str = sys.platform, buffer: int | None = None) -> dict[str, str]:
    """The Ice properties of the app's client communicator, for this platform."""
    if buffer is None:
        buffer = SOCKET_BUFFERS.get("linux" if platform.startswith("linux") else platform)
        buffer = buffer or SOCKET_BUFFER
    if platform.startswith("linux") and not _linux_allows(buffer):
        return {}
    return {"Ice.TCP.SndSize": str(buffer), "Ice.TCP.RcvSize": str(buffer)}


@dataclass(frozen=True)
class Group:
    """One of the user's OMERO groups."""

    id: int
    name: str
    is_default: bool


def server_url(server: str) -> str:
    """Turn ``HOST[:PORT]`` or ``PROTO://HOST[:PORT][/PATH]`` into an omero-py host URL.

    Plain ``HOST`` means the SSL router on port 4064, as a real server uses.
    ``ws://`` and ``wss://`` take a path, the websocket resource (omero-py
    ``clients.py _check_for_hosturl``), e.g. ``wss://omero.example.org/omero-ws``.
    """
    server = server.strip()
    match = _URL.match(server)
    if match:
        proto, path = match["proto"], match["path"] or ""
        if proto in ("tcp", "ssl") and path not in ("", "/"):
            raise ValueError(f"{server!r}: only ws:// and wss:// addresses take a path.")
        if proto in ("tcp", "ssl"):
            path = ""
        return f"{proto}://{match['host']}:{match['port'] or _DEFAULT_PORTS[proto]}{path}"
    host, _, port = server.partition(":")
    if not host or (port and not port.isdigit()):
        raise ValueError(f"{server!r} is not a server address; use HOST or HOST:PORT.")
    return f"ssl://{host}:{port or DEFAULT_PORT}"


def _reason(exc: Any) -> str:
    """The server's message, on one line and bounded."""
    text = " ".join(str(getattr(exc, "message", "") or type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."


# What to do after each kind of server refusal (omero.ServerError subclasses).
_REFUSALS: tuple[tuple[type[Exception], type[ServerRefused], str], ...] = (
    (
        omero.SecurityViolation,
        PermissionRefused,
        "OMERO refused {action}: you do not have permission in this group ({reason}). "
        "Choose a group where you may add data, or ask the group owner.",
    ),
    (
        omero.ResourceError,
        StorageFull,
        "OMERO could not store the data while {action}: its storage is full or "
        "unavailable ({reason}). Tell the facility staff, and press Retry later.",
    ),
    (
        omero.OverUsageException,
        ServerRefused,
        "OMERO is overloaded and refused {action} ({reason}). Wait a few minutes, "
        "then press Retry.",
    ),
    (
        omero.ValidationException,
        ServerRefused,
        "OMERO refused the data while {action} as invalid ({reason}). Press Retry; "
        "if it happens again, send the log file to the facility staff.",
    ),
    (
        omero.ApiUsageException,
        ServerRefused,
        "OMERO refused a request while {action} ({reason}). Send the log file to the "
        "facility staff.",
    ),
    (
        omero.InternalException,
        ServerRefused,
        "OMERO had an internal error while {action} ({reason}). Press Retry; if it "
        "happens again, tell the facility staff.",
    ),
    (
        omero.ServerError,
        ServerRefused,
        "OMERO refused {action} ({reason}). Press Retry; if it happens again, tell "
        "the facility staff.",
    ),
)


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Turn omero-py and Ice exceptions into our own, with plain messages."""
    try:
        yield
    except OmeroError:
        raise
    except (
        omero.RemovedSessionException,
        omero.SessionTimeoutException,
        Ice.ObjectNotExistException,
        Glacier2.SessionNotExistException,
    ) as exc:
        raise SessionExpired() from exc
    except (
        Ice.ConnectionLostException,
        Ice.ConnectionRefusedException,
        Ice.TimeoutException,
        Ice.CommunicatorDestroyedException,
        Ice.SocketException,
    ) as exc:
        raise ConnectionLost(
            f"The connection to OMERO was lost while {action}. Check the network "
            "and press Retry; nothing partial was kept."
        ) from exc
    except omero.ServerError as exc:
        log.warning("OMERO refused %s", action, exc_info=True)
        for server_class, ours, message in _REFUSALS:
            if isinstance(exc, server_class):
                raise ours(message.format(action=action, reason=_reason(exc))) from exc
        raise  # unreachable: omero.ServerError is the last entry


class Connection:
    """A joined OMERO session.

    Create with :func:`connect`.  The token is held in memory only, so that
    a dropped connection can be joined again; it is never logged or stored.
    """

    def __init__(self, gateway: Any, server: str, token: str) -> None:
        self.gateway = gateway
        self.server = server
        self.__token = token
        ctx = gateway.getEventContext()
        self.user_id: int = ctx.userId
        self.user_name: str = ctx.userName
        self.group_id: int = ctx.groupId
        self.group_name: str = ctx.groupName
        # Set on connect: the training sandbox is never a verified copy of anything.
        self.is_sandbox = False
        # Groups whose owner the user is: OMERO lets them link others' objects.
        self.owner_of: frozenset[int] = frozenset(ctx.leaderOfGroups or ())
        # The session's group is shared with every client joined with the same
        # token and may change under us; every call names our group instead.
        gateway.SERVICE_OPTS.setOmeroGroup(self.group_id)

    def context(self) -> dict[str, str]:
        """The Ice call context of every call: it names the working group."""
        return {**self.gateway.SERVICE_OPTS, "omero.group": str(self.group_id)}

    # -- groups -------------------------------------------------------

    def list_groups(self) -> list[Group]:
        """Return the user's groups, the default one marked, system groups left out."""
        with translate_errors("listing your groups"):
            admin = self.gateway.getAdminService()
            roles = admin.getSecurityRoles()
            hidden = {roles.systemGroupId, roles.userGroupId, roles.guestGroupId}
            default = admin.getDefaultGroup(self.user_id).getId().getValue()
            groups = admin.containedGroups(self.user_id)
        return sorted(
            (
                Group(g.getId().getValue(), g.getName().getValue(), g.getId().getValue() == default)
                for g in groups
                if g.getId().getValue() not in hidden
            ),
            key=lambda g: (not g.is_default, g.name.lower()),
        )

    def switch_group(self, group: int | str) -> Group:
        """Make ``group`` (id or name) the working group for everything that follows."""
        groups = self.list_groups()
        chosen = next((g for g in groups if group in (g.id, g.name)), None)
        if chosen is None:
            names = ", ".join(g.name for g in groups) or "none"
            raise NotAMember(
                f"You are not a member of the OMERO group {group!r}. Your groups: {names}."
            )
        with translate_errors("switching group"):
            try:
                self.gateway.c.sf.setSecurityContext(
                    omero.model.ExperimenterGroupI(chosen.id, False)
                )
            except omero.SecurityViolation as exc:
                # SessionManagerI.checkStatefulServices: an open upload in this
                # session (this app, or another one using the same token).
                raise GroupSwitchRefused(
                    f"OMERO did not switch to the group {chosen.name!r}: an upload is "
                    "still open in this OMERO session (here, or in another program "
                    "using the same token). Wait until it has finished, then choose "
                    "the group again."
                ) from exc
            self.gateway.SERVICE_OPTS.setOmeroGroup(chosen.id)
            self.gateway._ctx = None
        self.group_id, self.group_name = chosen.id, chosen.name
        return chosen

    # -- liveness -----------------------------------------------------

    def is_alive(self) -> bool:
        """Ask the server whether this connection still works."""
        try:
            # keepAlive(None) refreshes the session and answers False: it asks
            # about a proxy, and there is none (omero-blitz ServiceFactoryI.keepAlive).
            self.gateway.c.sf.keepAlive(None)
        except Exception:  # any failure means: not usable
            log.debug("keep-alive failed", exc_info=True)
            return False
        return True

    def reconnect(self) -> None:
        """Join the same session again after a dropped connection."""
        fresh = connect(self.server, self.__token)
        with contextlib.suppress(Exception):
            self.gateway.close(hard=False)
        self.gateway = fresh.gateway
        # Our group travels in every call's context; the session's may differ.
        self.gateway.SERVICE_OPTS.setOmeroGroup(self.group_id)

    def close(self) -> None:
        """Leave without ending the user's session: the token stays valid."""
        with contextlib.suppress(Exception):
            self.gateway.close(hard=False)


class _Gateway(BlitzGateway):  # type: ignore[misc]
    """BlitzGateway whose Ice communicator gets extra properties.

    ``BlitzGateway._resetOmeroClient`` builds the ``omero.client`` (at
    construction, and again on each join) with no way to pass properties;
    this builds the same client with them.
    """

    def __init__(self, url: str, properties: dict[str, str]) -> None:
        self._properties = dict(properties)  # before super(): it builds the client
        super().__init__(host=url)

    c: Any

    def _resetOmeroClient(self) -> None:
        if self.c is not None:
            with contextlib.suppress(omero.ClientError):
                self.c.__del__()
            self.c = None
        self.c = omero.client(host=str(self.host), pmap=self._properties)
        self.c.setAgent(self.useragent or "OMERO.py.gateway")


def new_gateway(url: str, properties: dict[str, str] | None = None) -> Any:
    """A gateway to ``url``; its communicator gets ``properties``, else :func:`ice_properties`."""
    return _Gateway(url, ice_properties() if properties is None else properties)


def _discard(gateway: Any) -> None:
    """Free a gateway that never joined a session (its Ice communicator included)."""
    with contextlib.suppress(Exception):
        gateway.close(hard=False)
    client = getattr(gateway, "c", None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.__del__()


def _unreachable(server: str, url: str, exc: Exception) -> ServerUnreachable:
    """Say why nothing answered at ``server`` and what to check."""
    proto, _, rest = url.partition("://")
    host, _, port = rest.split("/", 1)[0].partition(":")
    where = f"Cannot reach the OMERO server at {server}"
    if isinstance(exc, Ice.DNSException):
        why = (
            f"the name {host!r} was not found. Check the server address in Settings; "
            "if the server is only reachable inside the university network, connect "
            "to the VPN first"
        )
    elif isinstance(exc, Ice.ConnectionRefusedException):
        why = (
            f"nothing accepts connections on port {port}. Check the port in Settings "
            "(OMERO uses 4064 for SSL, 4063 for plain TCP)"
        )
    elif isinstance(
        exc, Ice.SecurityException | Ice.ProtocolException | Ice.ConnectionLostException
    ):
        # Here, at the first call, a connection dropped at once is a wrong protocol.
        why = (
            f"port {port} does not speak OMERO over {proto.upper()} (the connection "
            "could not be set up). Check the address and port in Settings: HOST or "
            "HOST:4064 is SSL, tcp://HOST:4063 is plain TCP, wss://HOST/PATH websockets"
        )
    elif isinstance(exc, Ice.TimeoutException):
        why = (
            "it did not answer in time. Check that you are on the university network "
            f"or VPN, and that port {port} is the right one for {proto.upper()} "
            "(4064 SSL, 4063 plain TCP)"
        )
    else:
        why = (
            f"the network refused the connection ({type(exc).__name__}). Check your "
            "network connection or VPN, and the address in Settings"
        )
    return ServerUnreachable(f"{where}: {why}.")


def _probe(gateway: Any, server: str, url: str) -> None:
    """Reach the router before joining, so a network failure is not called a bad token.

    ``BlitzGateway.connect`` answers False for DNS failures, connect time-outs
    and SSL failures as it does for a wrong token (Ice 3.6 ``DNSException``,
    ``ConnectTimeoutException`` and ``SecurityException`` are not
    ``SyscallException``).  Pinging the router first, on the same
    communicator, tells them apart; the join then reuses the connection.
    """
    try:
        gateway.c.getCommunicator().getDefaultRouter().ice_ping()
    except Ice.LocalException as exc:
        raise _unreachable(server, url, exc) from exc


def connect(server: str, token: str) -> Connection:
    """Join the OMERO session behind ``token`` on ``server``.

    Raises
    ------
    LoginFailed
        The token is wrong or has expired.
    ServerUnreachable
        Nothing answered at the address, or not OMERO over that protocol.
    """
    url = server_url(server)
    token = token.strip()
    if not token:
        raise LoginFailed("No token was given. Copy one from OMERO.web's token page.")
    gateway = new_gateway(url)
    try:
        _probe(gateway, server, url)
        joined = gateway.connect(sUuid=token)
    except ServerUnreachable:
        _discard(gateway)
        raise
    except Ice.LocalException as exc:  # the connection failed between probe and join
        _discard(gateway)
        raise _unreachable(server, url, exc) from exc
    if not joined:
        _discard(gateway)
        raise LoginFailed(
            "OMERO did not accept the token: it is mistyped or has expired. "
            "Log in to OMERO.web, copy a fresh token and try again."
        )
    gateway.c.enableKeepAlive(KEEPALIVE_SECONDS)
    log.info("joined an OMERO session on %s", url)
    return _identified(Connection(gateway, server, token))


def _identified(conn: Connection) -> Connection:
    from cci_uploader.omero.server_identity import is_training_sandbox

    try:
        conn.is_sandbox = is_training_sandbox(conn.gateway)
    except BaseException:
        conn.close()
        raise
    return conn
