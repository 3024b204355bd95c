"""Joining a user's OMERO session with a pasted token, and choosing a group.

This package is the only code that touches omero-py.  Everything here
returns plain values and raises the exceptions in :mod:`.errors`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import Ice
import omero
import omero.all
from omero.gateway import BlitzGateway

from cci_uploader.omero.errors import (
    GroupSwitchRefused,
    LoginFailed,
    NotAMember,
    ServerUnreachable,
)
from cci_uploader.omero.translation import translate_errors, unreachable

if TYPE_CHECKING:
    from collections.abc import Callable

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
        self._repository: Any = None
        # Ids found or created on this connection, by (group, kind, names...):
        # each is used only where a stale one is noticed and replaced
        # (containers.dataset_still_there, annotations.attach_new).
        self._ids: dict[tuple[object, ...], int] = {}
        # Remembered Datasets in use, each with its check still under way
        # (query, Project id, name), and Datasets that replaced deleted ones.
        self.checks: dict[int, tuple[Callable[[], list[Any]], int, str]] = {}
        self.replaced: dict[int, int] = {}
        # Images this connection imported and has not annotated yet: they are
        # the user's and carry no pairs or tags (annotations.annotate).
        self.fresh_images: set[int] = set()
        # Closes sent and not waited for, of services that block a group switch.
        self._closing: list[tuple[Any, Any]] = []

    def context(self) -> dict[str, str]:
        """The Ice call context of every call: it names the working group."""
        return {**self.gateway.SERVICE_OPTS, "omero.group": str(self.group_id)}

    # -- what the connection remembers ----------------------------------

    def repository(self) -> Any:
        """The managed repository's proxy, looked up once per connection.

        omero-py's ``client.getManagedRepository`` costs three round trips
        (``sharedResources``, ``repositories``, a checked cast) on every call;
        the repository of a server does not change while it runs.
        """
        if self._repository is None:
            with translate_errors("finding the server's repository"):
                self._repository = self.gateway.c.getManagedRepository()
        return self._repository

    def cached_id(self, *key: object) -> int | None:
        """An id remembered under ``key`` in the working group, else None."""
        return self._ids.get((self.group_id, *key))

    def remember_id(self, value: int, *key: object) -> None:
        """Remember ``value`` under ``key`` in the working group."""
        self._ids[(self.group_id, *key)] = value

    def forget_ids(self, kind: str | None = None) -> None:
        """Drop remembered ids: all, or those of one ``kind`` (the key's first part)."""
        for key in [k for k in self._ids if kind is None or k[1] == kind]:
            del self._ids[key]
        if kind is None:
            self.checks.clear()

    def project_name(self, project_id: int) -> str | None:
        """The name a remembered Project id was found under, in the working group."""
        return next(
            (
                str(k[2])
                for k, v in self._ids.items()
                if k[:2] == (self.group_id, "Project") and v == project_id
            ),
            None,
        )

    def closing(self, proxy: Any, pending: Any) -> None:
        """Note a ``begin_close`` of ``proxy`` that nobody waits for, until :meth:`settle`."""
        answered = [(p, r) for p, r in self._closing if r.isCompleted()]
        self._closing = [c for c in self._closing if c not in answered]
        for earlier, result in answered:  # collected as they come: the list stays short
            with contextlib.suppress(Exception):
                earlier.end_close(result)
        self._closing.append((proxy, pending))

    def settle(self) -> None:
        """Wait for the closes sent earlier: before anything they could get in the way of."""
        closing, self._closing = self._closing, []
        for proxy, pending in closing:
            with contextlib.suppress(Exception):  # as a waited close, best effort
                proxy.end_close(pending)

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
        # Not BlitzGateway.setGroupForSession: it trusts its cached event
        # context (stale once another client of this token switched the
        # session's group, so it may skip the switch), and it closes every
        # stateful service of the client first, which would cut off an upload
        # of ours instead of refusing the switch.
        self.settle()  # our own closed import processes must not block it
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
            # What setGroupForSession does too: BlitzGateway has no public way
            # to drop its cached event context, so getEventContext asks again.
            self.gateway._ctx = None
        self.group_id, self.group_name = chosen.id, chosen.name
        self.forget_ids()
        self.replaced.clear()
        self.fresh_images.clear()
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
        # Proxies and pending calls belonged to the old connection; objects
        # may have been deleted while it was down.
        self._repository = None
        self._closing = []
        self.forget_ids()
        self.replaced.clear()
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
        raise unreachable(server, url, exc) from exc


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
        raise unreachable(server, url, exc) from exc
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
