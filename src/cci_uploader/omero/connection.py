"""Joining a user's OMERO session with a pasted token, and choosing a group.

This package is the only code that touches omero-py.  Everything here
returns plain values and raises the exceptions in :mod:`.errors`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import Glacier2
import Ice
import omero
import omero.all
from omero.gateway import BlitzGateway

from cci_uploader.omero.errors import (
    ConnectionLost,
    LoginFailed,
    NotAMember,
    OmeroError,
    ServerUnreachable,
    SessionExpired,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 4064  # the SSL Glacier2 router of a standard OMERO server
KEEPALIVE_SECONDS = 60
_URL = re.compile(r"^(?P<proto>tcp|ssl|ws|wss)://(?P<host>[^:/]+)(:(?P<port>\d+))?/?$")


@dataclass(frozen=True)
class Group:
    """One of the user's OMERO groups."""

    id: int
    name: str
    is_default: bool


def server_url(server: str) -> str:
    """Turn ``HOST[:PORT]`` or ``PROTO://HOST[:PORT]`` into an omero-py host URL.

    Plain ``HOST`` means the SSL router on port 4064, as a real server uses.
    """
    server = server.strip()
    match = _URL.match(server)
    if match:
        port = (
            match["port"]
            or {"tcp": "4063", "ssl": "4064", "ws": "80", "wss": "443"}[match["proto"]]
        )
        return f"{match['proto']}://{match['host']}:{port}"
    host, _, port = server.partition(":")
    if not host or (port and not port.isdigit()):
        raise ValueError(f"{server!r} is not a server address; use HOST or HOST:PORT.")
    return f"ssl://{host}:{port or DEFAULT_PORT}"


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
            self.gateway.c.sf.setSecurityContext(omero.model.ExperimenterGroupI(chosen.id, False))
            self.gateway.SERVICE_OPTS.setOmeroGroup(chosen.id)
            self.gateway._ctx = None
        self.group_id, self.group_name = chosen.id, chosen.name
        return chosen

    # -- liveness -----------------------------------------------------

    def is_alive(self) -> bool:
        """Ask the server whether this connection still works."""
        try:
            return bool(self.gateway.c.sf.keepAlive(None))
        except Exception:  # any failure means: not usable
            log.debug("keep-alive failed", exc_info=True)
            return False

    def reconnect(self) -> None:
        """Join the same session again after a dropped connection."""
        fresh = connect(self.server, self.__token)
        with contextlib.suppress(Exception):
            self.gateway.close(hard=False)
        self.gateway = fresh.gateway
        if fresh.group_id != self.group_id:
            self.switch_group(self.group_id)

    def close(self) -> None:
        """Leave without ending the user's session: the token stays valid."""
        with contextlib.suppress(Exception):
            self.gateway.close(hard=False)


def _discard(gateway: Any) -> None:
    """Free a gateway that never joined a session (its Ice communicator included)."""
    with contextlib.suppress(Exception):
        gateway.close(hard=False)
    client = getattr(gateway, "c", None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.__del__()


def connect(server: str, token: str) -> Connection:
    """Join the OMERO session behind ``token`` on ``server``.

    Raises
    ------
    LoginFailed
        The token is wrong or has expired.
    ServerUnreachable
        Nothing answered at the address.
    """
    url = server_url(server)
    token = token.strip()
    if not token:
        raise LoginFailed("No token was given. Copy one from OMERO.web's token page.")
    gateway = BlitzGateway(host=url)
    try:
        joined = gateway.connect(sUuid=token)
    except Ice.SyscallException as exc:  # refused, DNS, unreachable
        _discard(gateway)
        raise ServerUnreachable(
            f"No OMERO server answered at {server}. Check the address in Settings "
            "and your network connection."
        ) from exc
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
