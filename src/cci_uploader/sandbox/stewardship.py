"""The stand-in's answers for the data-stewardship queries and the delete command.

Queries: filesets of images, a fileset's stored files, filesets by content,
a user's old images and fileset sizes (see :mod:`cci_uploader.omero.hql`).
``Delete2`` of whole filesets removes what OMERO's delete removes: the
fileset, its original files, its images, their links, orphaned key-value
annotations and the user's own orphaned tags (blitz-delete-rules.xml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import omero
import omero.cmd
from omero.rtypes import rlong, rtime

from cci_uploader.sandbox._loud import loud, not_supported
from cci_uploader.sandbox.state import SandboxState, group_id, kind, owner_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from cci_uploader.sandbox.context import ClientContext

Params = dict[str, Any]


def _id(obj: Any) -> int:
    return int(obj.getId().getValue())


def _ids(values: Iterable[Any]) -> set[int]:
    """Unwrap an ``RList`` parameter (the service hands over its elements)."""
    return {int(v.getValue()) if hasattr(v, "getValue") else int(v) for v in values}


def _imaged_filesets(state: SandboxState) -> dict[int, list[Any]]:
    """Fileset id -> its images, for filesets that still have images."""
    found: dict[int, list[Any]] = {}
    for image in state.all("Image"):
        fileset = image.getFileset()
        if fileset is not None:
            found.setdefault(_id(fileset), []).append(image)
    return found


def _stored_files(fileset: Any) -> list[Any]:
    return [entry.getOriginalFile() for entry in fileset.copyUsedFiles()]


def _value(obj: Any) -> Any:
    return None if obj is None else obj.getValue()


def filesets_of_images(state: SandboxState, p: Params) -> list[Any]:
    """Answer ``FILESETS_OF_IMAGES``: (image id, fileset id) rows."""
    wanted = _ids(p["ids"])
    return [
        [rlong(_id(i)), rlong(_id(i.getFileset()))]
        for i in state.all("Image")
        if _id(i) in wanted and i.getFileset() is not None
    ]


def fileset_files(state: SandboxState, p: Params) -> list[Any]:
    """Answer ``FILESET_FILES``: name, size, hash, hasher of a fileset with images."""
    if p["fileset"] not in _imaged_filesets(state):
        return []
    fileset = state.objects.get("Fileset", {}).get(p["fileset"])
    if fileset is None:
        return []
    rows = []
    for f in _stored_files(fileset):
        hasher = f.getHasher()
        rows.append(
            [
                f.getName(),
                f.getSize(),
                f.getHash(),
                None if hasher is None else hasher.getValue(),
            ]
        )
    return rows


def filesets_by_content(state: SandboxState, p: Params) -> list[Any]:
    """Answer ``FILESETS_BY_CONTENT``: filesets holding a file of that size and SHA-1."""
    groups = _ids(p["groups"])
    found = set()
    for fs_id in _imaged_filesets(state):
        fileset = state.objects["Fileset"][fs_id]
        if group_id(fileset) not in groups:
            continue
        for f in _stored_files(fileset):
            hasher = f.getHasher()
            if (
                _value(f.getSize()) == p["size"]
                and _value(f.getHash()) == p["hash"]
                and hasher is not None
                and _value(hasher.getValue()) == p["hasher"]
            ):
                found.add(fs_id)
    return [[rlong(i)] for i in sorted(found)]


_PARENT_KIND = {"DatasetImageLink": "Dataset", "ProjectDatasetLink": "Project"}


def _parent(state: SandboxState, link_kind: str, child_id: int) -> Any:
    for link in state.all(link_kind):
        if _id(link.getChild()) == child_id:
            return state.objects[_PARENT_KIND[link_kind]].get(_id(link.getParent()))
    return None


def old_images(state: SandboxState, p: Params) -> list[Any]:
    """Answer ``OLD_IMAGES``: the owner's images created before ``before``."""
    groups = _ids(p["groups"])
    rows = []
    for image in sorted(state.all("Image"), key=_id):
        details = image.getDetails()
        created = int(details.getCreationEvent().getTime().getValue())
        if (
            image.getFileset() is None
            or owner_id(image) != p["owner"]
            or group_id(image) not in groups
            or created >= p["before"]
        ):
            continue
        dataset = _parent(state, "DatasetImageLink", _id(image))
        project = None if dataset is None else _parent(state, "ProjectDatasetLink", _id(dataset))
        rows.append(
            [
                rlong(_id(image)),
                image.getName(),
                rlong(_id(image.getFileset())),
                rtime(created),
                rlong(group_id(image)),
                None if dataset is None else rlong(_id(dataset)),
                None if dataset is None else dataset.getName(),
                None if project is None else rlong(_id(project)),
                None if project is None else project.getName(),
            ]
        )
    return rows


def fileset_sizes(state: SandboxState, p: Params) -> list[Any]:
    """Answer ``FILESET_SIZES``: (fileset id, total bytes) rows."""
    wanted = _ids(p["filesets"])
    rows = []
    for fs_id in sorted(wanted):
        fileset = state.objects.get("Fileset", {}).get(fs_id)
        if fileset is not None:
            total = sum(_value(f.getSize()) or 0 for f in _stored_files(fileset))
            rows.append([rlong(fs_id), rlong(total)])
    return rows


# Handlers take (state, parameters, reading user); these queries name their owner
# or ids themselves, so the reader is not needed to answer them.
PROJECTIONS: dict[str, Callable[[SandboxState, Params, int], list[Any]]] = {}


def _register() -> None:
    from cci_uploader.omero import hql

    for query, handler in (
        (hql.FILESETS_OF_IMAGES, filesets_of_images),
        (hql.FILESET_FILES, fileset_files),
        (hql.FILESETS_BY_CONTENT, filesets_by_content),
        (hql.OLD_IMAGES, old_images),
        (hql.FILESET_SIZES, fileset_sizes),
    ):
        PROJECTIONS[hql.normalise(query)] = _any_reader(handler)


def _any_reader(
    handler: Callable[[SandboxState, Params], list[Any]],
) -> Callable[[SandboxState, Params, int], list[Any]]:
    def answer(state: SandboxState, p: Params, user: int) -> list[Any]:
        return handler(state, p)

    return answer


_register()


# -- omero.cmd: Delete2 of filesets ------------------------------------------

_MODEL = {
    "Fileset": "ome.model.fs.Fileset",
    "OriginalFile": "ome.model.core.OriginalFile",
    "Image": "ome.model.core.Image",
    "DatasetImageLink": "ome.model.containers.DatasetImageLink",
    "ImageAnnotationLink": "ome.model.annotations.ImageAnnotationLink",
    "MapAnnotation": "ome.model.annotations.MapAnnotation",
    "TagAnnotation": "ome.model.annotations.TagAnnotation",
    "WellSample": "ome.model.screen.WellSample",
}
_ANNOTATION_LINKS = ("ImageAnnotationLink", "ProjectAnnotationLink")


def _refused(what: str) -> Any:
    return omero.cmd.ERR(
        category="stand-in",
        name="not-implemented",
        parameters={"message": not_supported(what).message},
    )


def _err(name: str, message: str) -> Any:
    return omero.cmd.ERR(category="graph", name=name, parameters={"message": message})


def _delete_filesets(ctx: ClientContext, ids: list[int], dry_run: bool) -> Any:
    state = ctx.state
    deleted: dict[str, list[int]] = {}

    def gone(obj: Any) -> None:
        name = kind(obj)
        deleted.setdefault(_MODEL[name], []).append(_id(obj))
        if not dry_run:
            state.delete(name, _id(obj))

    with state.lock:
        filesets = _own_filesets(ctx, ids)
        if not isinstance(filesets, list):
            return filesets  # the ERR response
        wanted = set(ids)
        images = [
            i
            for i in state.all("Image")
            if i.getFileset() is not None and _id(i.getFileset()) in wanted
        ]
        _delete_images(ctx, images, gone)
        for fileset in filesets:
            for f in _stored_files(fileset):
                gone(f)
                if not dry_run:
                    state.files.pop(_id(f), None)  # the stored bytes go too
            gone(fileset)
    if not dry_run and state.faults.delete_files_fail:
        # Delete2I.buildResponse: the files are deleted after the transaction;
        # if that fails the answer is ERR although the rows are gone.
        state.faults.delete_files_fail = False
        return _err("file-delete-fail", "Failed to delete files: /OMERO/ManagedRepository/…")
    return omero.cmd.Delete2Response(deletedObjects=deleted)


def _own_filesets(ctx: ClientContext, ids: list[int]) -> list[Any] | Any:
    """The Filesets of ``ids``, or an ERR response if one is missing or not the user's."""
    filesets = []
    for fs_id in ids:
        fileset = ctx.state.objects.get("Fileset", {}).get(fs_id)
        if fileset is None:
            return _err("graph-fail", f"Fileset:{fs_id} does not exist")
        if owner_id(fileset) != ctx.session.user_id:
            return _err("graph-fail", f"not permitted to delete Fileset:{fs_id}")
        filesets.append(fileset)
    return filesets


def _delete_images(ctx: ClientContext, images: list[Any], gone: Callable[[Any], None]) -> None:
    """Delete the images, their links to datasets, annotations and plate wells."""
    image_ids = {_id(i) for i in images}
    for link in ctx.state.all("DatasetImageLink"):  # Dataset -> Image
        if _id(link.getChild()) in image_ids:
            gone(link)
    _delete_annotations(ctx, image_ids, gone)
    for sample in ctx.state.all("WellSample"):  # a plate CZI's field; its Well stays
        if _id(sample.getImage()) in image_ids:
            gone(sample)
    for image in images:
        gone(image)


def _delete_annotations(
    ctx: ClientContext, image_ids: set[int], gone: Callable[[Any], None]
) -> None:
    """Delete the images' annotation links, and the annotations left linked to nothing."""
    state = ctx.state
    annotation_links = [
        link for link in state.all("ImageAnnotationLink") if _id(link.getParent()) in image_ids
    ]
    was_linked = {_id(link.getChild()) for link in annotation_links}
    for link in annotation_links:  # Image -> annotation
        gone(link)
    gone_links = {_id(link) for link in annotation_links}
    still_linked = {
        _id(link.getChild())
        for name in _ANNOTATION_LINKS
        for link in state.all(name)
        if _id(link) not in gone_links
    }
    orphans = was_linked - still_linked
    # blitz-delete-rules.xml: annotations left linked to nothing go with the
    # images: key-value pairs, and the deleting user's own tags (another
    # member's tag stays, as their object).
    for annotation in state.all("MapAnnotation"):
        if _id(annotation) in orphans:
            gone(annotation)
    for tag in state.all("TagAnnotation"):
        if _id(tag) in orphans and owner_id(tag) == ctx.session.user_id:
            gone(tag)


def submit(ctx: ClientContext, request: Any) -> Any:
    """Run an ``omero.cmd`` request and return a handle proxy holding its response."""
    # ``submit`` declares no exceptions (Ice would hide ours): refusals are ERR responses.
    targets = dict(getattr(request, "targetObjects", None) or {})
    if not isinstance(request, omero.cmd.Delete2):
        response = _refused(f"the command {type(request).__name__}")
    elif set(targets) != {"Fileset"} or request.childOptions:
        response = _refused(f"Delete2 of {sorted(targets)} or with child options")
    else:
        ids = [int(i) for i in targets["Fileset"]]
        response = _delete_filesets(ctx, ids, bool(request.dryRun))
    handle = DoneHandle(ctx, response)
    return omero.cmd.HandlePrx.uncheckedCast(ctx.registry.add(handle, ctx.session, ctx.category))


class DoneHandle(loud(omero.cmd.Handle)):  # type: ignore[misc]
    """A command handle whose work finished when it was created."""

    def __init__(self, ctx: ClientContext, response: Any) -> None:
        self._ctx, self._response = ctx, response
        self._started = ctx.state.now_ms()

    def getResponse(self, current: Any = None) -> Any:
        return self._response

    def getStatus(self, current: Any = None) -> Any:
        return omero.cmd.Status(
            source=None,
            category="graph",
            name="delete",
            flags=[],
            parameters={},
            currentStep=1,
            steps=1,
            startTime=self._started,
            stepStartTimes=[self._started],
            stepStopTimes=[self._started],
            stopTime=self._started,
        )

    def addCallback(self, callback: Any, current: Any = None) -> None:
        pass

    def close(self, current: Any = None) -> None:
        self._ctx.registry.remove(current.id)
