"""The managed repository: importFileset, upload, verifyUpload and the import itself."""

from __future__ import annotations

import io
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import omero
import omero.cmd
import omero.grid
import omero.model
from omero.rtypes import rlong, rstring

from cci_uploader.sandbox._loud import loud
from cci_uploader.sandbox.router import ClientContext
from cci_uploader.sandbox.state import Session, StoredFile, group_id

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


class ManagedRepository(loud(omero.grid.ManagedRepository)):  # type: ignore[misc]
    def __init__(self, ctx: ClientContext) -> None:
        self._ctx = ctx

    def importFileset(self, fileset: Any, settings: Any, current: Any = None) -> Any:
        state = self._ctx.state
        view = Session(
            self._ctx.session.token, self._ctx.session.user_id, self._ctx.group_for(current)
        )
        algorithm = settings.checksumAlgorithm
        if algorithm is None or algorithm.getValue().getValue() != SHA1:
            raise omero.ApiUsageException(message="The stand-in supports only SHA1-160 checksums.")
        stamp = time.strftime("%Y-%m/%d/%H-%M-%S", time.gmtime(state.now_ms() / 1000))
        prefix = f"{view.user_id}/{stamp}.{state.new_id()}/"
        with state.lock:
            stored_fs = omero.model.FilesetI()
            stored_fs.setTemplatePrefix(rstring(prefix))
            files = []
            for entry in fileset.copyUsedFiles():
                client_path = entry.getClientPath().getValue()
                ofile = omero.model.OriginalFileI()
                ofile.setName(rstring(Path(client_path).name))
                ofile.setPath(rstring(prefix))
                ofile.setMimetype(rstring("application/octet-stream"))
                hasher = omero.model.ChecksumAlgorithmI()
                hasher.setValue(rstring(SHA1))
                ofile.setHasher(hasher)
                state.store(ofile, view)
                name = client_path.lower()
                keep = name.endswith((".ome.tif", ".ome.tiff"))  # its OME-XML names images
                state.files[ofile.getId().getValue()] = StoredFile(keep=keep)
                new_entry = omero.model.FilesetEntryI()
                new_entry.setClientPath(rstring(client_path))
                new_entry.setOriginalFile(ofile)
                stored_fs.addFilesetEntry(new_entry)
                files.append(ofile)
            state.store(stored_fs, view)
        process = ImportProcess(self._ctx, view, stored_fs, files, settings)
        return omero.grid.ImportProcessPrx.uncheckedCast(
            self._ctx.registry.add(process, self._ctx.session, self._ctx.category)
        )


class ImportProcess(loud(omero.grid.ImportProcess)):  # type: ignore[misc]
    def __init__(
        self, ctx: ClientContext, view: Session, fileset: Any, files: list[Any], settings: Any
    ) -> None:
        self._ctx, self._view, self._fileset = ctx, view, fileset
        self._files, self._settings = files, settings
        self._verified = False

    def getUploader(self, index: int, current: Any = None) -> Any:
        ofile = self._files[index]
        store = RawFileStore(self._ctx, self._ctx.state.files[ofile.getId().getValue()])
        return omero.api.RawFileStorePrx.uncheckedCast(
            self._ctx.registry.add(store, self._ctx.session, self._ctx.category)
        )

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
        self._verified = True
        handle = ImportHandle(self._ctx, self._view, self._fileset, self._files, self._settings)
        return omero.cmd.HandlePrx.uncheckedCast(
            self._ctx.registry.add(handle, self._ctx.session, self._ctx.category)
        )

    def close_async(self, cb: Any, current: Any = None) -> None:
        if not self._verified:
            # An abandoned upload (cancelled, or the connection dropped): its bytes go.
            for ofile in self._files:
                self._ctx.state.files.pop(ofile.getId().getValue(), None)
        self._ctx.registry.remove(current.id)
        cb.ice_response()


class RawFileStore(loud(omero.api.RawFileStore)):  # type: ignore[misc]
    """Receives one file's bytes; hashes them as they arrive, in order."""

    def __init__(self, ctx: ClientContext, stored: StoredFile) -> None:
        self._ctx, self._stored = ctx, stored

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

    def close_async(self, cb: Any, current: Any = None) -> None:
        self._ctx.registry.remove(current.id)
        cb.ice_response()


class ImportHandle(loud(omero.cmd.Handle)):  # type: ignore[misc]
    """Runs the server-side import in the background, as OMERO's import does."""

    def __init__(
        self, ctx: ClientContext, view: Session, fileset: Any, files: list[Any], settings: Any
    ) -> None:
        self._ctx, self._view, self._fileset = ctx, view, fileset
        self._files, self._settings = files, settings
        self._response: Any = None
        self._started = ctx.state.now_ms()
        self._thread = threading.Thread(target=self._run, name="sandbox-import", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        faults = self._ctx.state.faults
        if faults.import_delay_s:
            time.sleep(faults.import_delay_s)
        if faults.import_error is not None:
            message, faults.import_error = faults.import_error, None
            self._response = omero.cmd.ERR("import", "import-failed", {"message": message})
            return
        try:
            self._response = omero.grid.ImportResponse(pixels=self._create_images(), objects=[])
        except omero.ServerError as exc:
            self._response = omero.cmd.ERR("import", "import-failed", {"message": exc.message})

    def _create_images(self) -> list[Any]:
        state = self._ctx.state
        target = self._settings.userSpecifiedTarget
        dataset = None
        if target is not None:
            dataset = state.get("Dataset", target.getId().getValue())
            if group_id(dataset) != self._view.group_id:
                raise omero.SecurityViolation(message="The target dataset is in another group.")
        main = self._files[0]
        # The bytes are read once, to name the images; then only their checksum is kept.
        stored = state.files.pop(main.getId().getValue())
        for other in self._files[1:]:
            state.files.pop(other.getId().getValue(), None)
        names = image_names(stored, main.getName().getValue())
        pixels = []
        with state.lock:
            for name in names:
                image = omero.model.ImageI()
                image.setName(rstring(name))
                image.setFileset(omero.model.FilesetI(self._fileset.getId().getValue(), False))
                state.store(image, self._view)
                if dataset is not None:
                    link = omero.model.DatasetImageLinkI()
                    link.setParent(omero.model.DatasetI(dataset.getId().getValue(), False))
                    link.setChild(omero.model.ImageI(image.getId().getValue(), False))
                    state.store(link, self._view)
                pix = omero.model.PixelsI()
                pix.setImage(omero.model.ImageI(image.getId().getValue(), False))
                pixels.append(pix)
        return pixels

    def getResponse(self, current: Any = None) -> Any:
        return self._response

    def getStatus(self, current: Any = None) -> Any:
        done = self._response is not None
        return omero.cmd.Status(
            source=None,
            category="import",
            name="import",
            flags=[],
            parameters={},
            currentStep=1 if done else 0,
            steps=1,
            startTime=self._started,
            stepStartTimes=[self._started],
            stepStopTimes=[],
            stopTime=0,
        )

    def addCallback(self, callback: Any, current: Any = None) -> None:
        pass

    def close(self, current: Any = None) -> None:
        self._ctx.registry.remove(current.id)


def image_names(stored: StoredFile, file_name: str) -> list[str]:
    """Name images as OMERO does: the file name, plus ``[series]`` for multi-image files."""
    if not file_name.lower().endswith((".ome.tif", ".ome.tiff")):
        return [file_name]
    import tifffile

    with tifffile.TiffFile(io.BytesIO(stored.data)) as tif:
        xml = tif.ome_metadata
    if not xml:
        return [file_name]
    root = ET.fromstring(xml)
    series = [
        el.get("Name") or f"Series {i}"
        for i, el in enumerate(e for e in root if e.tag.endswith("}Image"))
    ]
    if len(series) <= 1:
        return [file_name]
    return [f"{file_name} [{s}]" for s in series]
