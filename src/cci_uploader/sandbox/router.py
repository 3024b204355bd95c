"""Glacier2 router and ServiceFactory: how a client gets in.

The router servant returns a null client proxy, so the client sends every
request to the router's own endpoints: one object adapter hosts the router
and all services.  ``createSession(token, token)`` is how omero-py joins a
session by its uuid (``BlitzGateway.connect(sUuid=...)``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import Glacier2
import Ice
import omero
import omero.api

from cci_uploader.sandbox._loud import loud
from cci_uploader.sandbox.context import ClientContext
from cci_uploader.sandbox.identity import login

if TYPE_CHECKING:
    from cci_uploader.sandbox.registry import Registry
    from cci_uploader.sandbox.state import SandboxState


class Router(loud(Glacier2.Router)):  # type: ignore[misc]
    """The one entry point, at ``OMERO.Glacier2/router``."""

    def __init__(self, state: SandboxState, registry: Registry) -> None:
        self._state = state
        self._registry = registry
        self._by_connection: dict[Any, Any] = {}

    def getClientProxy(self, current: Any = None) -> None:
        return None

    def getServerProxy(self, current: Any = None) -> Any:
        # Callbacks are never made; any proxy on our own endpoints will do.
        return current.adapter.createProxy(Ice.Identity("callbacks", "sandbox"))

    def addProxies(self, proxies: Any, current: Any = None) -> list[Any]:
        return []

    def getCategoryForClient(self, current: Any = None) -> str:
        return f"client-{abs(hash(current.con.toString()))}"

    def getSessionTimeout(self, current: Any = None) -> int:
        return 600

    def getACMTimeout(self, current: Any = None) -> int:
        return 0

    def createSession_async(self, cb: Any, user: str, password: str, current: Any = None) -> None:
        try:
            session = login(self._state, user, password)
        except Glacier2.PermissionDeniedException as exc:
            cb.ice_exception(exc)
            return
        context = ClientContext(self._state, self._registry, session, f"sf-{uuid.uuid4()}")
        factory = ServiceFactory(context)
        self._registry.bind(context.category, current.con)
        proxy = self._registry.add(factory, session, context.category, session.token)
        self._by_connection[current.con.toString()] = (proxy, context)
        cb.ice_response(Glacier2.SessionPrx.uncheckedCast(proxy))

    def refreshSession_async(self, cb: Any, current: Any = None) -> None:
        cb.ice_response()

    def destroySession(self, current: Any = None) -> None:
        # The OMERO session outlives the connection (detachOnDestroy): only
        # this client's service factory goes.
        entry = self._by_connection.pop(current.con.toString(), None)
        if entry is None:
            raise Glacier2.SessionNotExistException()
        self._registry.remove(entry[0])


class ServiceFactory(loud(omero.api.ServiceFactory)):  # type: ignore[misc]
    """Hands out the services a client asks for, bound to its session."""

    counts_as_method = False  # its calls are not service methods of the session

    def __init__(self, context: ClientContext) -> None:
        self._ctx = context
        self._stateless: dict[str, Any] = {}

    def _service(self, name: str, factory: Any, prx_type: Any) -> Any:
        if name not in self._stateless:
            servant = factory(self._ctx)
            self._stateless[name] = self._ctx.registry.add(
                servant, self._ctx.session, self._ctx.category, name
            )
        return prx_type.uncheckedCast(self._stateless[name])

    def _stateful(self, servant: Any, prx_type: Any) -> Any:
        return prx_type.uncheckedCast(
            self._ctx.registry.add(servant, self._ctx.session, self._ctx.category)
        )

    def getAdminService(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.services import AdminService

        return self._service("IAdmin", AdminService, omero.api.IAdminPrx)

    def getConfigService(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.identity import ConfigService

        return self._service("IConfig", ConfigService, omero.api.IConfigPrx)

    def getQueryService(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.services import QueryService

        return self._service("IQuery", QueryService, omero.api.IQueryPrx)

    def getUpdateService(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.services import UpdateService

        return self._service("IUpdate", UpdateService, omero.api.IUpdatePrx)

    def getSessionService(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.services import SessionService

        return self._service("ISession", SessionService, omero.api.ISessionPrx)

    def sharedResources(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.repository import SharedResources

        return self._service("SharedResources", SharedResources, omero.grid.SharedResourcesPrx)

    def createRawFileStore(self, current: Any = None) -> Any:
        from cci_uploader.sandbox.attachments import RawFileStore

        return self._stateful(RawFileStore(self._ctx), omero.api.RawFileStorePrx)

    def setSecurityContext(self, obj: Any, current: Any = None) -> Any:
        group_id = int(obj.getId().getValue())
        session = self._ctx.session
        if group_id not in self._ctx.state.users[session.user_id].groups:
            raise omero.SecurityViolation(
                serverStackTrace="",
                serverExceptionClass="ome.conditions.SecurityViolation",
                message=f"You are not a member of group {group_id}.",
            )
        if session.active_calls:
            # SessionManagerImpl.setSecurityContext: sc.stats().methodCount() != 0.
            raise omero.SecurityViolation(
                serverStackTrace="",
                serverExceptionClass="ome.conditions.SecurityViolation",
                message=f"{session.active_calls} methods active. Aborting!",
            )
        # omero-blitz SessionManagerI.checkStatefulServices: an open ImportProcess
        # or RawFileStore anywhere in the session cancels the switch.
        with self._ctx.state.lock:
            open_services = sorted(session.stateful)
        if open_services:
            raise omero.SecurityViolation(
                serverStackTrace="",
                serverExceptionClass="ome.conditions.SecurityViolation",
                message="SecurityContext change cancelled:\n"
                f"{session.token} has active stateful services:\n" + "\n".join(open_services),
            )
        previous = omero.model.ExperimenterGroupI(session.group_id, False)
        session.group_id = group_id
        return previous

    def submit_async(self, cb: Any, request: Any, current: Any = None) -> None:
        from cci_uploader.sandbox.stewardship import submit

        try:
            cb.ice_response(submit(self._ctx, request))
        except omero.ServerError as exc:
            cb.ice_exception(exc)

    def setCallback(self, callback: Any, current: Any = None) -> None:
        pass

    def detachOnDestroy(self, current: Any = None) -> None:
        pass

    def closeOnDestroy(self, current: Any = None) -> None:
        pass

    def keepAlive(self, proxy: Any, current: Any = None) -> bool:
        # omero-blitz ServiceFactoryI.keepAlive: the session is refreshed, and the
        # answer is whether *that proxy's* servant exists: False for None.
        if proxy is None:
            return False
        return self._ctx.registry.has(proxy.ice_getIdentity())

    def keepAllAlive(self, proxies: Any, current: Any = None) -> list[Any]:
        return []
