"""Maps Ice identities to servants and refuses calls on dead sessions.

All objects live on one object adapter.  A servant locator looks each
identity up and checks, before every call, that the session it belongs to
is still alive: this is where an expired session becomes visible to the
client, as with a real server.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import Ice
import omero

from cci_uploader.sandbox.state import Faults, Session


class Registry(Ice.ServantLocator):
    """Identity-to-servant table used as the adapter's default servant locator."""

    def __init__(self, adapter: Any, faults: Faults | None = None) -> None:
        self._adapter = adapter
        self._faults = faults
        self._lock = threading.Lock()
        self._servants: dict[str, tuple[Any, Session | None]] = {}
        # Client category -> the connection its Glacier2 session lives on.
        self._connections: dict[str, str] = {}
        # Every request that arrived, as "Servant.operation": two-way ones (the
        # client waited for an answer) and one-way ones (Ice request id 0).
        self._requests: Counter[str] = Counter()
        self._oneway: Counter[str] = Counter()

    def requests(self, *, oneway: bool = False) -> Counter[str]:
        """A copy of the request counts so far: two-way, or one-way with ``oneway``."""
        with self._lock:
            return Counter(self._oneway if oneway else self._requests)

    def add(self, servant: Any, session: Session | None, category: str = "", name: str = "") -> Any:
        """Register ``servant`` and return a proxy to it."""
        identity = Ice.Identity(name or str(uuid.uuid4()), category)
        key = Ice.identityToString(identity)
        with self._lock:
            self._servants[key] = (servant, session)
        return self._adapter.createProxy(identity)

    def remove(self, proxy_or_identity: Any) -> None:
        identity = (
            proxy_or_identity.ice_getIdentity()
            if hasattr(proxy_or_identity, "ice_getIdentity")
            else proxy_or_identity
        )
        with self._lock:
            self._servants.pop(Ice.identityToString(identity), None)

    def bind(self, category: str, connection: Any) -> None:
        """Serve ``category`` only over ``connection``, as Glacier2 routes a session.

        Glacier2 ties a router session to the client's connection: when that
        connection drops, the router session goes, and requests arriving on a
        new connection find no session (``ObjectNotExistException``) until
        the client joins again.  The OMERO session and its services live on.
        """
        with self._lock:
            self._connections[category] = connection.toString()

    def has(self, identity: Any) -> bool:
        with self._lock:
            return Ice.identityToString(identity) in self._servants

    def remove_session(self, session: Session) -> None:
        with self._lock:
            for key in [k for k, (_, s) in self._servants.items() if s is session]:
                del self._servants[key]

    # -- Ice.ServantLocator ---------------------------------------------

    def locate(self, current: Any) -> tuple[Any, Session | None]:
        with self._lock:
            entry = self._servants.get(Ice.identityToString(current.id))
            kind = "unknown" if entry is None else _kind(entry[0])
            counts = self._oneway if current.requestId == 0 else self._requests
            counts[f"{kind}.{current.operation}"] += 1
        if entry is None:
            return None, None  # Ice answers ObjectNotExistException
        servant, session = entry
        bound = self._connections.get(current.id.category)
        if bound is not None and (current.con is None or current.con.toString() != bound):
            return None, None  # Ice answers ObjectNotExistException
        if session is not None and not session.alive:
            raise omero.RemovedSessionException(
                serverStackTrace="",
                serverExceptionClass="RemovedSessionException",
                message="Session expired: log in to OMERO.web again and paste a new token.",
            )
        refusal = None if self._faults is None else self._faults.refusal(current.operation)
        if refusal is not None:
            raise refusal  # a test's stand-in for whatever the server refuses
        if session is None or not getattr(servant, "counts_as_method", True):
            return servant, None
        # SessionManagerImpl.setSecurityContext refuses while service methods of
        # the session are running ("N methods active"); count them.
        with self._lock:
            session.active_calls += 1
        hold = 0.0 if self._faults is None else self._faults.hold.pop(current.operation, 0.0)
        if hold:
            time.sleep(hold)  # a test's slow call, running in the session
        return servant, session

    def finished(self, current: Any, servant: Any, cookie: Any) -> None:
        if isinstance(cookie, Session):
            with self._lock:
                cookie.active_calls -= 1

    def deactivate(self, category: str) -> None:
        with self._lock:
            self._servants.clear()


def _kind(servant: Any) -> str:
    """The servant's class name: the request counts name servants by it."""
    return type(servant).__name__
