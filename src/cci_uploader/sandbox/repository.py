"""The managed repository: importFileset, upload, verifyUpload and the import itself."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import omero
import omero.cmd
import omero.grid
import omero.model
from omero.rtypes import rlong, rstring

from cci_uploader.sandbox import paths
from cci_uploader.sandbox._loud import loud
from cci_uploader.sandbox.importing import KEPT, ImportHandle
from cci_uploader.sandbox.plates import PlateSniffer
from cci_uploader.sandbox.state import Session, StoredFile

if TYPE_CHECKING:
    from cci_uploader.sandbox.context import ClientContext

SHA1 = "SHA1-160"


class SharedResources(loud(omero.grid.SharedResources)):  # type: ignore[misc]
    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx
        self._repo: Any = None

    def repositories(self, current: Any = None) -> Any:
        if self._repo is None:
            self._repo = omero.grid.ManagedRepositoryPrx.uncheckedCast(
                self._ctx.registry.add(
                    ManagedRepository(self._ctx),
                    self._ctx.session,
                    self._ctx.category,
                    "ManagedRepository",
                )
            )
        description = omero.model.OriginalFileI(1, True)
        description.setName(rstring("ManagedRepository"))
        return omero.grid.RepositoryMap([description], [self._repo])


def _stateful(ctx: ClientContext, servant: Any, prx_type: Any) -> Any:
    """Register a stateful service; it counts against group switches until closed."""
    proxy = ctx.registry.add(servant, ctx.session, ctx.category)
    with ctx.state.lock:
        ctx.session.stateful.add(f"{type(servant).__name__}:{proxy.ice_getIdentity().name}")
    return prx_type.uncheckedCast(proxy)


def _closed(ctx: ClientContext, servant: Any, current: Any) -> None:
    ctx.registry.remove(current.id)
    with ctx.state.lock:
        ctx.session.stateful.discard(f"{type(servant).__name__}:{current.id.name}")


def job_status(value: str) -> Any:
    """A JobStatus enumeration value ("Submitted", "Finished", ...)."""
    status = omero.model.JobStatusI()
    status.setValue(rstring(value))
    return status


def _check_upload_job(fileset: Any) -> None:
    """The client's Fileset carries exactly one UploadJob, not yet run.

    omero-blitz ``ManagedRepositoryI.createImportProcess`` refuses any other
    job links; omero-server ``JobBean.submit`` gives a job without a status
    "Submitted" and refuses one other than Submitted or Waiting. (The real
    server saves the Fileset before it refuses; here nothing is saved.)
    """
    links = fileset.copyJobLinks()
    if len(links) != 1:
        raise omero.ValidationException(
            message="Found more than one job link. Link only updateJob on creation!"
        )
    job = links[0].getChild()
    if job is None:
        raise omero.ValidationException(message="Found null-UploadJob on creation")
    if not isinstance(job, omero.model.UploadJob):
        raise omero.ValidationException(
            message=f"Found non-UploadJob on creation: {type(job).__name__}"
        )
    status = job.getStatus()
    value = None if status is None or status.getValue() is None else status.getValue().getValue()
    if status is not None and value not in ("Submitted", "Waiting"):
        raise omero.ApiUsageException(
            message="Currently only SUBMITTED and WAITING are accepted as JobStatus"
        )


class ManagedRepository(loud(omero.grid.ManagedRepository)):  # type: ignore[misc]
    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def importFileset(self, fileset: Any, settings: Any, current: Any = None) -> Any:
        state = self._ctx.state
        view = Session(
            self._ctx.session.token, self._ctx.session.user_id, self._ctx.group_for(current)
        )
        # ManagedImportRequestI reads only the value; a null algorithm is refused.
        algorithm = settings.checksumAlgorithm
        if algorithm is None or algorithm.getValue().getValue() != SHA1:
            raise omero.ApiUsageException(message="The stand-in supports only SHA1-160 checksums.")
        _check_upload_job(fileset)
        stamp = time.strftime("%Y-%m/%d/%H-%M-%S", time.gmtime(state.now_ms() / 1000))
        prefix = f"{view.user_id}/{stamp}.{state.new_id()}/"
        # RepositoryDaoImpl.saveFileset: the Fileset, its entries, OriginalFiles
        # and UploadJob are saved at once, before any byte arrives; a cancelled or
        # failed upload leaves them.
        with state.transaction():
            stored_fs = omero.model.FilesetI()
            stored_fs.setTemplatePrefix(rstring(prefix))
            files = []
            for entry in fileset.copyUsedFiles():
                client_path = entry.getClientPath().getValue()
                components = paths.stored_components(client_path)
                ofile = omero.model.OriginalFileI()
                ofile.setName(rstring(paths.original_file_name(client_path)))
                ofile.setPath(rstring(prefix + "".join(f"{c}/" for c in components[:-1])))
                ofile.setMimetype(rstring("application/octet-stream"))
                hasher = omero.model.ChecksumAlgorithmI()
                hasher.setValue(rstring(SHA1))
                ofile.setHasher(hasher)
                state.store(ofile, view)
                keep = client_path.lower().endswith(KEPT)
                sniffer = PlateSniffer() if client_path.lower().endswith(".czi") else None
                state.files[ofile.getId().getValue()] = StoredFile(keep=keep, sniffer=sniffer)
                new_entry = omero.model.FilesetEntryI()
                new_entry.setClientPath(rstring(client_path))
                new_entry.setOriginalFile(ofile)
                stored_fs.addFilesetEntry(new_entry)
                files.append(ofile)
            job = omero.model.UploadJobI()
            job.setStatus(job_status("Submitted"))
            state.store(job, view)
            stored_fs.linkJob(job)
            state.store(stored_fs, view)
        process = ImportProcess(self._ctx, view, stored_fs, files, settings)
        return _stateful(self._ctx, process, omero.grid.ImportProcessPrx)


class ImportProcess(loud(omero.grid.ImportProcess)):  # type: ignore[misc]
    def __init__(
        self, ctx: ClientContext, view: Session, fileset: Any, files: list[Any], settings: Any
    ) -> None:
        self._ctx, self._view, self._fileset = ctx, view, fileset
        self._files, self._settings = files, settings

    def getUploader(self, index: int, current: Any = None) -> Any:
        # Entry order: entry 0 is the file Bio-Formats opens.
        ofile = self._files[index]
        file_id = ofile.getId().getValue()
        store = RawFileStore(self._ctx, self._ctx.state.files[file_id], file_id)
        return _stateful(self._ctx, store, omero.api.RawFileStorePrx)

    def verifyUpload(self, hashes: list[str], current: Any = None) -> Any:
        state = self._ctx.state
        if len(hashes) != len(self._files):
            raise omero.ApiUsageException(
                message=f"Expected {len(self._files)} checksums, got {len(hashes)}."
            )
        failing = {}
        for index, (ofile, client_hash) in enumerate(zip(self._files, hashes, strict=True)):
            stored = state.files[ofile.getId().getValue()]
            actual = stored.hexdigest()
            # ManagedImportProcessI.verifyUpload: lower-case hex, String.equals.
            if actual != client_hash:
                failing[index] = actual
            with state.lock:
                ofile.setHash(rstring(actual))
                ofile.setSize(rlong(stored.size))
        if failing:
            raise omero.ChecksumValidationException(
                serverStackTrace="",
                serverExceptionClass="ChecksumValidationException",
                message="Uploaded data does not match its checksum.",
                failingChecksums=failing,
            )
        with state.lock:
            # ManagedImportProcessI.verifyUpload: the checksums passed, so the UploadJob
            # is set Finished before the import request is submitted.
            self._fileset.copyJobLinks()[0].getChild().setStatus(job_status("Finished"))
        handle = ImportHandle(self._ctx, self._view, self._fileset, self._files, self._settings)
        return omero.cmd.HandlePrx.uncheckedCast(
            self._ctx.registry.add(handle, self._ctx.session, self._ctx.category)
        )

    def close_async(self, cb: Any, current: Any = None) -> None:
        # Closing the process frees the service only: the Fileset, its files and
        # any bytes already written stay on the server.
        _closed(self._ctx, self, current)
        cb.ice_response()


class RawFileStore(loud(omero.api.RawFileStore)):  # type: ignore[misc]
    """Receives one file's bytes; hashes them as they arrive, in order."""

    def __init__(self, ctx: ClientContext, stored: StoredFile, file_id: int) -> None:
        self._ctx, self._stored, self._file_id = ctx, stored, file_id

    def getFileId_async(self, cb: Any, current: Any = None) -> None:
        cb.ice_response(rlong(self._file_id))

    def write_async(
        self, cb: Any, buf: bytes, position: int, length: int, current: Any = None
    ) -> None:
        state, stored = self._ctx.state, self._stored
        session = self._ctx.session
        faults = state.faults
        session.uploaded += length
        if faults.cut_after_bytes is not None and session.uploaded > faults.cut_after_bytes:
            faults.cut_after_bytes = None
            current.con.close(True)  # the client sees the connection drop mid-upload
            cb.ice_response()  # completes the dispatch; the reply has nowhere to go
            return
        data = buf if len(buf) == length else buf[:length]
        if faults.corrupt_upload:
            faults.corrupt_upload = False
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        try:
            stored.write(data, position)
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        cb.ice_response()

    def _finish(self) -> None:
        # RawFileBean.save/close compute size and hash and check the repository
        # (sanityCheckRepository): a full one raises ResourceError here.
        if self._ctx.state.faults.repository_full:
            raise omero.ResourceError(
                serverStackTrace="",
                serverExceptionClass="ome.conditions.ResourceError",
                message="Repository /OMERO/ManagedRepository is full: no space left on device",
            )

    def save_async(self, cb: Any, current: Any = None) -> None:
        try:
            self._finish()
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        cb.ice_response(None)

    def close_async(self, cb: Any, current: Any = None) -> None:
        _closed(self._ctx, self, current)
        try:
            self._finish()
        except omero.ServerError as exc:
            cb.ice_exception(exc)
            return
        cb.ice_response()
