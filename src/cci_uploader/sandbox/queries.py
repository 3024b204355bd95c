"""The HQL the stand-in understands: exactly the app's own queries.

Each query in :mod:`cci_uploader.omero.hql` has a Python twin here that
answers it from the stand-in's state.  Anything else is refused loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from typing import TYPE_CHECKING, Any

import omero.model
from omero.rtypes import rlong, rstring

from cci_uploader.omero import hql
from cci_uploader.sandbox import attachments, permissions, stewardship
from cci_uploader.sandbox._loud import not_supported
from cci_uploader.sandbox.state import SandboxState, group_id, kind, owner_id

if TYPE_CHECKING:
    from cci_uploader.sandbox.context import ClientContext

Params = dict[str, Any]


Handler = Callable[[SandboxState, Params, int], list[Any]]


def _val(obj: Any, getter: str) -> Any:
    value = getattr(obj, getter)()
    return None if value is None else value.getValue()


def _seen(state: SandboxState, user: int, kind_name: str) -> list[Any]:
    """Objects of one class the user may read (BasicACLVoter.allowLoad)."""
    return permissions.visible(state, user, state.all(kind_name))


def _projects(state: SandboxState, p: Params, user: int) -> list[Any]:
    return [
        x
        for x in _seen(state, user, "Project")
        if _val(x, "getName") == p["name"]
        and owner_id(x) == p["owner"]
        and group_id(x) == p["group"]
    ]


def _datasets(state: SandboxState, p: Params, user: int) -> list[Any]:
    linked = {
        link.getChild().getId().getValue()
        for link in state.all("ProjectDatasetLink")
        if link.getParent().getId().getValue() == p["project"]
    }
    return [
        d
        for d in _seen(state, user, "Dataset")
        if d.getId().getValue() in linked
        and _val(d, "getName") == p["name"]
        and owner_id(d) == p["owner"]
    ]


def _hashed_files(state: SandboxState, p: Params, user: int) -> Iterator[tuple[int, Any]]:
    """(fileset id, OriginalFile) of the group's filesets the user sees, hashed by ``hasher``."""
    for fs in _seen(state, user, "Fileset"):
        if group_id(fs) != p["group"]:
            continue
        for entry in fs.copyUsedFiles():
            f = entry.getOriginalFile()
            hasher = f.getHasher()
            if hasher is not None and _val(hasher, "getValue") == p["hasher"]:
                yield fs.getId().getValue(), f


def _images_of(state: SandboxState, user: int, filesets: Container[int]) -> list[tuple[int, int]]:
    """(image id, fileset id) of the images the user sees in ``filesets``."""
    return [
        (i.getId().getValue(), i.getFileset().getId().getValue())
        for i in _seen(state, user, "Image")
        if i.getFileset() is not None and i.getFileset().getId().getValue() in filesets
    ]


def _duplicates(state: SandboxState, p: Params, user: int) -> list[Any]:
    wanted = (p["name"], p["size"], p["hash"])
    filesets = {
        fs
        for fs, f in _hashed_files(state, p, user)
        if (_val(f, "getName"), _val(f, "getSize"), _val(f, "getHash")) == wanted
    }
    return [[rlong(i)] for i in sorted(i for i, _ in _images_of(state, user, filesets))]


def _duplicates_by_hash(state: SandboxState, p: Params, user: int) -> list[Any]:
    # hql.DUPLICATES_BY_HASH as IQueryImpl.projection answers it: the joins of the
    # query, over only the rows the user may read (_seen, BasicACLVoter.allowLoad);
    # a Fileset without an Image (an import not finished) yields no row.
    hashes = {v.getValue() if hasattr(v, "getValue") else v for v in p["hashes"]}
    files: dict[int, set[tuple[str, int, str]]] = {}
    for fs, f in _hashed_files(state, p, user):
        if _val(f, "getHash") in hashes:
            content = (_val(f, "getName"), _val(f, "getSize"), _val(f, "getHash"))
            files.setdefault(fs, set()).add(content)
    rows = {
        (image, *content) for image, fs in _images_of(state, user, files) for content in files[fs]
    }
    return [[rlong(i), rstring(n), rlong(z), rstring(h)] for i, n, z, h in sorted(rows)]


def _values(state: SandboxState, p: Params, user: int) -> list[Any]:
    values = {
        nv.value
        for a in _seen(state, user, "MapAnnotation")
        if _val(a, "getNs") == p["ns"] and group_id(a) == p["group"]
        for nv in (a.getMapValue() or [])
        if nv.name == p["key"]
    }
    return [[rstring(v)] for v in sorted(values)]


def _tags(state: SandboxState, p: Params, user: int) -> list[Any]:
    return [
        t
        for t in _seen(state, user, "TagAnnotation")
        if _val(t, "getTextValue") == p["text"] and group_id(t) == p["group"]
    ]


def _ids(p: Params) -> set[int]:
    return {int(v.getValue()) if hasattr(v, "getValue") else int(v) for v in p["ids"]}


def _image_owners(state: SandboxState, p: Params, user: int) -> list[Any]:
    wanted = _ids(p)
    return [
        [rlong(i.getId().getValue()), rlong(owner_id(i))]
        for i in _seen(state, user, "Image")
        if i.getId().getValue() in wanted
    ]


def _image_links(state: SandboxState, p: Params, user: int) -> list[tuple[int, Any]]:
    """(image id, annotation) of the visible links of the wanted images."""
    wanted = _ids(p)
    found = []
    for link in _seen(state, user, "ImageAnnotationLink"):
        image = link.getParent().getId().getValue()
        if image not in wanted:
            continue
        child = link.getChild()
        for name in ("MapAnnotation", "TagAnnotation"):
            annotation = state.objects.get(name, {}).get(child.getId().getValue())
            if annotation is not None and permissions.can_see(state, user, annotation):
                found.append((image, annotation))
    return found


def _image_pairs(state: SandboxState, p: Params, user: int) -> list[Any]:
    return [
        [rlong(image), rstring(nv.name), rstring(nv.value)]
        for image, a in _image_links(state, p, user)
        if kind(a) == "MapAnnotation" and _val(a, "getNs") == p["ns"]
        for nv in (a.getMapValue() or [])
    ]


def _image_tags(state: SandboxState, p: Params, user: int) -> list[Any]:
    return [
        [rlong(image), a.getTextValue()]
        for image, a in _image_links(state, p, user)
        if kind(a) == "TagAnnotation"
    ]


def _empty_fileset_of_file(state: SandboxState, p: Params, user: int) -> list[Any]:
    with_images = {i.getFileset().getId().getValue() for i in state.all("Image") if i.getFileset()}
    return [
        [rlong(fs.getId().getValue()), rlong(group_id(fs))]
        for fs in _seen(state, user, "Fileset")
        if owner_id(fs) == p["owner"]
        and fs.getId().getValue() not in with_images
        and any(e.getOriginalFile().getId().getValue() == p["file"] for e in fs.copyUsedFiles())
    ]


def _upload_job_of_file(state: SandboxState, p: Params, user: int) -> list[Any]:
    # hql.UPLOAD_JOB_OF_FILE: the UploadJob's status of the user's filesets holding the
    # file (ManagedImportProcessI.verifyUpload sets it Finished); a deleted one is absent.
    return [
        [rstring(link.getChild().getStatus().getValue().getValue())]
        for fs in _seen(state, user, "Fileset")
        if owner_id(fs) == p["owner"]
        and any(e.getOriginalFile().getId().getValue() == p["file"] for e in fs.copyUsedFiles())
        for link in fs.copyJobLinks()
        if isinstance(link.getChild(), omero.model.UploadJob)
    ]


def _dataset_still_linked(state: SandboxState, p: Params, user: int) -> list[Any]:
    # hql.DATASET_STILL_LINKED as IQueryImpl.projection answers it: a deleted Dataset
    # (Delete2) or link is simply absent; rows are filtered by BasicACLVoter.allowLoad.
    datasets = {d.getId().getValue() for d in _seen(state, user, "Dataset")}
    return [
        [rlong(link.getChild().getId().getValue())]
        for link in _seen(state, user, "ProjectDatasetLink")
        if link.getParent().getId().getValue() == p["project"]
        and link.getChild().getId().getValue() == p["dataset"]
        and p["dataset"] in datasets
    ]


_OBJECT_QUERIES: dict[str, Handler] = {
    hql.normalise(hql.PROJECT_BY_NAME): _projects,
    hql.normalise(hql.DATASET_IN_PROJECT): _datasets,
    hql.normalise(hql.TAG_BY_TEXT): _tags,
}
_PROJECTIONS: dict[str, Handler] = {
    hql.normalise(hql.DUPLICATE_IMAGES): _duplicates,
    hql.normalise(hql.DUPLICATES_BY_HASH): _duplicates_by_hash,
    hql.normalise(hql.VALUES_FOR_KEY): _values,
    hql.normalise(hql.IMAGE_OWNERS): _image_owners,
    hql.normalise(hql.IMAGE_PAIRS): _image_pairs,
    hql.normalise(hql.IMAGE_TAGS): _image_tags,
    hql.normalise(hql.EMPTY_FILESET_OF_FILE): _empty_fileset_of_file,
    hql.normalise(hql.UPLOAD_JOB_OF_FILE): _upload_job_of_file,
    hql.normalise(hql.DATASET_STILL_LINKED): _dataset_still_linked,
    **stewardship.PROJECTIONS,
    **attachments.PROJECTIONS,
}


def run_query(
    ctx: ClientContext, query: str, params: Params, *, projection: bool, current: Any = None
) -> list[Any]:
    """Answer one of the app's queries, or raise naming the unsupported one."""
    table = _PROJECTIONS if projection else _OBJECT_QUERIES
    handler = table.get(hql.normalise(query))
    if handler is None:
        kind_name = "projection" if projection else "query"
        raise not_supported(f"the {kind_name} {query!r}")
    with ctx.state.lock:
        ctx.group_for(current)  # a group in the call context must be one of the user's
        # A group parameter the caller cannot see gives nothing, as on a real server.
        member_of = ctx.state.users[ctx.session.user_id].groups
        if "group" in params and params["group"] not in member_of:
            return []
        return handler(ctx.state, params, ctx.session.user_id)
