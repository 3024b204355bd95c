"""File attachments in the stand-in: OriginalFiles, RawFileStore, FileAnnotations.

What it mirrors of the real server (omero-server):

- ``RawFileBean.setFileIdWithBuffer``: the file must exist (``iQuery.get``
  raises ``ValidationException``); a file of a repository (an imported file)
  cannot be opened by a plain store; the store is writable only when the
  caller may update the file (``admin.canUpdate``: its owner), else writes
  raise ``SecurityViolation("File not writeable!")`` (``RawFileBean.write``).
- ``RawFileBean.save``: the SHA-1 is computed from the stored bytes only when
  the OriginalFile has a hasher (else the client's ``hash`` stays as sent), and
  the size always; ``close`` saves too.

The bytes are hashed as they arrive and kept only as size and SHA-1
(``state.StoredFile``), like uploads; writes must come in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import omero
import omero.api
from omero.rtypes import rlong, rstring

from cci_uploader.omero import hql
from cci_uploader.sandbox import permissions
from cci_uploader.sandbox._loud import loud
from cci_uploader.sandbox.state import SandboxState, StoredFile, group_id, owner_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from cci_uploader.sandbox.context import ClientContext

Params = dict[str, Any]
_SHA1 = "SHA1-160"


def _error(kind: type[Any], message: str) -> Any:
    return kind(serverStackTrace="", serverExceptionClass=kind.__name__, message=message)


def _in_repository(state: SandboxState, file_id: int) -> bool:
    return any(
        entry.getOriginalFile().getId().getValue() == file_id
        for fileset in state.all("Fileset")
        for entry in fileset.copyUsedFiles()
    )


def check_save(state: SandboxState, obj: Any) -> None:
    """Refuse a FileAnnotation whose file does not exist, as the server's foreign key does."""
    if type(obj).__name__ == "FileAnnotationI":
        ofile = obj.getFile()
        if ofile is None or ofile.getId() is None:
            return
        state.get("OriginalFile", ofile.getId().getValue())


class RawFileStore(loud(omero.api.RawFileStore)):  # type: ignore[misc]
    """``ServiceFactory.createRawFileStore``: write one OriginalFile's bytes."""

    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx
        self._file: Any = None
        self._writable = False
        self._modified = False

    def setFileId_async(self, cb: Any, file_id: int, current: Any = None) -> None:
        state = self._ctx.state
        try:
            with state.lock:
                ofile = state.get("OriginalFile", file_id)
                if _in_repository(state, file_id):
                    raise _error(
                        omero.ApiUsageException, f"OriginalFile {file_id} is in a repository."
                    )
                self._file = ofile
                self._writable = owner_id(ofile) == self._ctx.session.user_id
                state.files.setdefault(file_id, StoredFile())
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        cb.ice_response()

    def _stored(self) -> StoredFile:
        if self._file is None:
            raise _error(omero.ApiUsageException, "No file id set: call setFileId first.")
        return self._ctx.state.files[self._file.getId().getValue()]

    def write_async(
        self, cb: Any, buf: bytes, position: int, length: int, current: Any = None
    ) -> None:
        try:
            stored = self._stored()
            if not self._writable:
                raise _error(omero.SecurityViolation, "File not writeable!")
            stored.write(buf if len(buf) == length else buf[:length], position)
            self._modified = True
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        cb.ice_response()

    def size_async(self, cb: Any, current: Any = None) -> None:
        try:
            cb.ice_response(self._stored().size)
        except omero.ServerError as exc:
            cb.ice_exception(exc)

    def _save(self) -> Any:
        if self._file is None:
            return None
        stored = self._stored()
        size = self._file.getSize()
        if not self._modified and size is not None and size.getValue() == stored.size:
            return None  # RawFileBean.save: nothing changed, nothing returned
        with self._ctx.state.lock:
            hasher = self._file.getHasher()
            if hasher is not None and hasher.getValue().getValue() == _SHA1:
                self._file.setHash(rstring(stored.hexdigest()))
            self._file.setSize(rlong(stored.size))
        self._modified = False
        return self._file

    def save_async(self, cb: Any, current: Any = None) -> None:
        try:
            cb.ice_response(self._save())
        except omero.ServerError as exc:
            cb.ice_exception(exc)

    def close_async(self, cb: Any, current: Any = None) -> None:
        try:
            self._save()
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        finally:
            self._ctx.registry.remove(current.id)
        cb.ice_response()


def _file_rows(state: SandboxState) -> list[tuple[Any, Any, Any]]:
    """(link, annotation, file) for every image link to a FileAnnotation with a hashed file."""
    rows = []
    images = {i.getId().getValue() for i in state.all("Image")}
    for link in state.all("ImageAnnotationLink"):
        child_id = link.getChild().getId().getValue()
        annotation = state.objects.get("FileAnnotation", {}).get(child_id)
        if annotation is None or link.getParent().getId().getValue() not in images:
            continue
        ofile = state.objects.get("OriginalFile", {}).get(annotation.getFile().getId().getValue())
        if ofile is None or ofile.getHasher() is None:
            continue  # f.hasher.value is an inner join: a file without hasher is left out
        rows.append((link, annotation, ofile))
    return rows


def _value(obj: Any) -> Any:
    return None if obj is None else obj.getValue()


def images_with_original(state: SandboxState, p: Params, user: int) -> list[Any]:
    """Answer ``IMAGES_WITH_ORIGINAL``, with only the links ``user`` may read."""
    found = set()
    for link, annotation, ofile in _file_rows(state):
        if (
            permissions.can_see(state, user, link)
            and _value(annotation.getNs()) == p["ns"]
            and _value(ofile.getName()) == p["name"]
            and _value(ofile.getSize()) == p["size"]
            and _value(ofile.getHash()) == p["hash"]
            and _value(ofile.getHasher().getValue()) == p["hasher"]
            and group_id(link) == p["group"]
        ):
            found.add(link.getParent().getId().getValue())
    return [[rlong(i)] for i in sorted(found)]


def attached_files(state: SandboxState, p: Params, user: int) -> list[Any]:
    """Answer ``ATTACHED_FILES``, with only the links ``user`` may read."""
    wanted = {int(v.getValue()) if hasattr(v, "getValue") else int(v) for v in p["ids"]}
    rows = []
    for link, _, ofile in sorted(_file_rows(state), key=lambda r: r[0].getId().getValue()):
        if link.getParent().getId().getValue() in wanted and permissions.can_see(state, user, link):
            rows.append(
                [
                    link.getParent().getId(),
                    ofile.getName(),
                    ofile.getSize(),
                    ofile.getHash(),
                    ofile.getHasher().getValue(),
                ]
            )
    return rows


PROJECTIONS: dict[str, Callable[[SandboxState, Params, int], list[Any]]] = {
    hql.normalise(hql.IMAGES_WITH_ORIGINAL): images_with_original,
    hql.normalise(hql.ATTACHED_FILES): attached_files,
}
