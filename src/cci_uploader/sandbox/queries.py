"""The HQL the stand-in understands: exactly the app's own queries.

Each query in :mod:`cci_uploader.omero.hql` has a Python twin here that
answers it from the stand-in's state.  Anything else is refused loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omero.rtypes import rlong, rstring

from cci_uploader.omero import hql
from cci_uploader.sandbox import attachments, stewardship
from cci_uploader.sandbox._loud import not_supported
from cci_uploader.sandbox.state import SandboxState, group_id, owner_id

if TYPE_CHECKING:
    from cci_uploader.sandbox.router import ClientContext

Params = dict[str, Any]


def _val(obj: Any, getter: str) -> Any:
    value = getattr(obj, getter)()
    return None if value is None else value.getValue()


def _projects(state: SandboxState, p: Params) -> list[Any]:
    return [
        x
        for x in state.all("Project")
        if _val(x, "getName") == p["name"]
        and owner_id(x) == p["owner"]
        and group_id(x) == p["group"]
    ]


def _datasets(state: SandboxState, p: Params) -> list[Any]:
    linked = {
        link.getChild().getId().getValue()
        for link in state.all("ProjectDatasetLink")
        if link.getParent().getId().getValue() == p["project"]
    }
    return [
        d
        for d in state.all("Dataset")
        if d.getId().getValue() in linked
        and _val(d, "getName") == p["name"]
        and owner_id(d) == p["owner"]
    ]


def _duplicates(state: SandboxState, p: Params) -> list[Any]:
    filesets = set()
    for fs in state.all("Fileset"):
        if group_id(fs) != p["group"]:
            continue
        for entry in fs.copyUsedFiles():
            f = entry.getOriginalFile()
            hasher = f.getHasher()
            if (
                _val(f, "getName") == p["name"]
                and _val(f, "getSize") == p["size"]
                and _val(f, "getHash") == p["hash"]
                and hasher is not None
                and _val(hasher, "getValue") == p["hasher"]
            ):
                filesets.add(fs.getId().getValue())
    ids = sorted(
        i.getId().getValue()
        for i in state.all("Image")
        if i.getFileset() is not None and i.getFileset().getId().getValue() in filesets
    )
    return [[rlong(i)] for i in ids]


def _values(state: SandboxState, p: Params) -> list[Any]:
    values = {
        nv.value
        for a in state.all("MapAnnotation")
        if _val(a, "getNs") == p["ns"] and group_id(a) == p["group"]
        for nv in (a.getMapValue() or [])
        if nv.name == p["key"]
    }
    return [[rstring(v)] for v in sorted(values)]


def _tags(state: SandboxState, p: Params) -> list[Any]:
    return [
        t
        for t in state.all("TagAnnotation")
        if _val(t, "getTextValue") == p["text"] and group_id(t) == p["group"]
    ]


_OBJECT_QUERIES: dict[str, Callable[[SandboxState, Params], list[Any]]] = {
    hql.normalise(hql.PROJECT_BY_NAME): _projects,
    hql.normalise(hql.DATASET_IN_PROJECT): _datasets,
    hql.normalise(hql.TAG_BY_TEXT): _tags,
}
_PROJECTIONS: dict[str, Callable[[SandboxState, Params], list[Any]]] = {
    hql.normalise(hql.DUPLICATE_IMAGES): _duplicates,
    hql.normalise(hql.VALUES_FOR_KEY): _values,
    **stewardship.PROJECTIONS,
    **attachments.PROJECTIONS,
}


def run_query(ctx: ClientContext, query: str, params: Params, *, projection: bool) -> list[Any]:
    """Answer one of the app's queries, or raise naming the unsupported one."""
    table = _PROJECTIONS if projection else _OBJECT_QUERIES
    handler = table.get(hql.normalise(query))
    if handler is None:
        kind = "projection" if projection else "query"
        raise not_supported(f"the {kind} {query!r}")
    with ctx.state.lock:
        # A group parameter the caller cannot see gives nothing, as on a real server.
        member_of = ctx.state.users[ctx.session.user_id].groups
        if "group" in params and params["group"] not in member_of:
            return []
        return handler(ctx.state, params)
