"""IAdmin, IQuery, IUpdate and ISession: the stateless services the app uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import omero
import omero.api
import omero.model
import omero.sys
from omero.rtypes import rlong, rstring

from cci_uploader.sandbox import attachments, permissions
from cci_uploader.sandbox._loud import loud, not_supported
from cci_uploader.sandbox.queries import run_query
from cci_uploader.sandbox.state import Group, Session, User, kind

if TYPE_CHECKING:
    from cci_uploader.sandbox.context import ClientContext


def _group_obj(group: Group) -> Any:
    obj = omero.model.ExperimenterGroupI(group.id, True)
    obj.setName(rstring(group.name))
    details = omero.model.DetailsI()
    details.setPermissions(omero.model.PermissionsI(group.permissions))
    obj._details = details
    return obj


def _user_obj(user: User) -> Any:
    obj = omero.model.ExperimenterI(user.id, True)
    obj.setOmeName(rstring(user.name))
    obj.setFirstName(rstring(user.first_name))
    obj.setLastName(rstring(user.last_name))
    return obj


class AdminService(loud(omero.api.IAdmin)):  # type: ignore[misc]
    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def _user(self) -> User:
        return self._ctx.state.users[self._ctx.session.user_id]

    def getEventContext_async(self, cb: Any, current: Any = None) -> None:
        user, state = self._user(), self._ctx.state
        try:
            group = state.groups[self._ctx.group_for(current)]
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        ec = omero.sys.EventContext()
        ec.shareId = -1
        ec.sessionId = 1
        ec.sessionUuid = self._ctx.session.token
        ec.userId = user.id
        ec.userName = user.name
        ec.sudoerId = None
        ec.sudoerName = None
        ec.groupId = group.id
        ec.groupName = group.name
        ec.isAdmin = False
        ec.adminPrivileges = []
        ec.eventId = -1
        ec.eventType = "User"
        ec.memberOfGroups = list(user.groups)
        ec.leaderOfGroups = sorted(g.id for g in state.groups.values() if user.id in g.owners)
        ec.groupPermissions = omero.model.PermissionsI(group.permissions)
        cb.ice_response(ec)

    def getSecurityRoles_async(self, cb: Any, current: Any = None) -> None:
        roles = omero.sys.Roles()
        roles.rootId, roles.rootName = 0, "root"
        roles.systemGroupId, roles.systemGroupName = 0, "system"
        roles.userGroupId, roles.userGroupName = 1, "user"
        roles.guestId, roles.guestName = 1, "guest"
        roles.guestGroupId, roles.guestGroupName = 2, "guest"
        cb.ice_response(roles)

    def containedGroups_async(self, cb: Any, user_id: int, current: Any = None) -> None:
        user = self._ctx.state.users.get(user_id)
        if user is None:
            cb.ice_exception(omero.ApiUsageException(message=f"No experimenter {user_id}"))
            return
        cb.ice_response([_group_obj(self._ctx.state.groups[g]) for g in user.groups])

    def getDefaultGroup_async(self, cb: Any, user_id: int, current: Any = None) -> None:
        user = self._ctx.state.users[user_id]
        cb.ice_response(_group_obj(self._ctx.state.groups[user.default_group]))

    def getExperimenter_async(self, cb: Any, user_id: int, current: Any = None) -> None:
        cb.ice_response(_user_obj(self._ctx.state.users[user_id]))


class QueryService(loud(omero.api.IQuery)):  # type: ignore[misc]
    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def findAllByQuery_async(self, cb: Any, query: str, params: Any, current: Any = None) -> None:
        self._answer(cb, query, params, current, projection=False)

    def projection_async(self, cb: Any, query: str, params: Any, current: Any = None) -> None:
        self._answer(cb, query, params, current, projection=True)

    def _answer(self, cb: Any, query: str, params: Any, current: Any, *, projection: bool) -> None:
        try:
            values = {k: v.getValue() for k, v in (params.map if params else {}).items()}
            cb.ice_response(
                run_query(self._ctx, query, values, projection=projection, current=current)
            )
        except omero.ServerError as exc:
            cb.ice_exception(exc)


class UpdateService(loud(omero.api.IUpdate)):  # type: ignore[misc]
    """Saves new objects the app creates; links are checked like the server does."""

    _SAVEABLE = frozenset(
        {
            "Project",
            "Dataset",
            "ProjectDatasetLink",
            "MapAnnotation",
            "TagAnnotation",
            "ImageAnnotationLink",
            "OriginalFile",  # attachments: sandbox/attachments.py
            "FileAnnotation",
            "ProjectAnnotationLink",
        }
    )

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def _save(self, obj: Any, current: Any) -> Any:
        name = kind(obj)
        if name not in self._SAVEABLE:
            raise not_supported(f"saving a {name}")
        if obj.getId() is not None:
            raise not_supported(f"updating an existing {name}")
        state, session = self._ctx.state, self._ctx.session
        view = Session(session.token, session.user_id, self._ctx.group_for(current))
        attachments.check_save(state, obj)
        if name.endswith("Link"):
            parent_kind = name[: -len("AnnotationLink")] if "Annotation" in name else "Project"
            parent = state.get(parent_kind, obj.getParent().getId().getValue())
            permissions.check_link(state, view.user_id, view.group_id, obj, parent)
            child = obj.getChild()
            if child.getId() is None:
                obj.setChild(self._save(child, current))
            else:
                linked = state.get(kind(child), child.getId().getValue())
                permissions.check_link(state, view.user_id, view.group_id, obj, linked)
                permissions.check_unique_link(state, view.user_id, obj)
        return state.store(obj, view)

    def _many(self, objs: Any, current: Any) -> list[Any]:
        # One transaction: one refused object saves nothing (UpdateImpl.saveArray).
        with self._ctx.state.transaction():
            return [self._save(o, current) for o in objs]

    def saveAndReturnObject_async(self, cb: Any, obj: Any, current: Any = None) -> None:
        try:
            with self._ctx.state.transaction():
                saved = self._save(obj, current)
            cb.ice_response(saved)
        except omero.ServerError as exc:
            cb.ice_exception(exc)

    def saveAndReturnArray_async(self, cb: Any, objs: Any, current: Any = None) -> None:
        try:
            cb.ice_response(self._many(objs, current))
        except omero.ServerError as exc:
            cb.ice_exception(exc)

    def saveArray_async(self, cb: Any, objs: Any, current: Any = None) -> None:
        try:
            self._many(objs, current)
            cb.ice_response()
        except omero.ServerError as exc:
            cb.ice_exception(exc)


class SessionService(loud(omero.api.ISession)):  # type: ignore[misc]
    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def getSession_async(self, cb: Any, token: str, current: Any = None) -> None:
        session = self._ctx.state.sessions.get(token)
        if session is None:
            cb.ice_exception(omero.RemovedSessionException(message="No such session"))
            return
        obj = omero.model.SessionI(1, True)
        obj.setUuid(rstring(token))
        obj.setOwner(omero.model.ExperimenterI(session.user_id, False))
        obj.setTimeToIdle(rlong(600_000))
        cb.ice_response(obj)
