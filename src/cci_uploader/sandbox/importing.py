"""The server-side import behind an import handle: images, their Dataset, and cancel.

Rules mirrored (omero-blitz):

- ``ManagedImportRequestI`` runs in steps in the background; the handle's
  response is ``ImportResponse`` with ``pixels`` and ``objects`` (Images and
  Plates, ``buildResponse``), or ``ERR`` with ``parameters["message"]``
  (``Helper.fail``).
- ``HandleI.addCallback`` keeps a one-way proxy of the client's callback;
  ``notifyCallbacks`` calls ``finished(response, status)`` on each when the
  request ends (or is cancelled), never for one added afterwards.
- ``HandleI.close`` on an unfinished request calls ``cancel()``: the import
  stops at the next step boundary and creates nothing more; the Fileset, its
  files and their bytes stay (nothing deletes them).
- ``TargetProcessor.process``: with a Dataset target every Image is linked to
  it; the Dataset must be in the import's group (``OmeroInterceptor``).
- A CZI that Bio-Formats reads as a plate (:mod:`.plates`) also gets its
  Plate, Wells and WellSamples; the Plate is in ``objects``, in no Screen.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import Ice
import omero
import omero.cmd
import omero.grid
import omero.model
from omero.rtypes import rint, rstring

from cci_uploader.sandbox import permissions
from cci_uploader.sandbox._loud import loud

if TYPE_CHECKING:
    from cci_uploader.sandbox.context import ClientContext
    from cci_uploader.sandbox.state import Session, StoredFile

# Files whose bytes the stand-in keeps: their OME-XML names the images.
KEPT = (".ome.tif", ".ome.tiff")
_STEP_S = 0.01


class ImportHandle(loud(omero.cmd.Handle)):  # type: ignore[misc]
    """Runs the server-side import in the background, as OMERO's import does."""

    def __init__(
        self, ctx: ClientContext, view: Session, fileset: Any, files: list[Any], settings: Any
    ) -> None:
        self._ctx, self._view, self._fileset = ctx, view, fileset
        self._files, self._settings = files, settings
        self._response: Any = None
        self._callbacks: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._started = ctx.state.now_ms()
        self._thread = threading.Thread(target=self._run, name="sandbox-import", daemon=True)
        self._thread.start()

    def _step(self) -> bool:
        """A step boundary: False once the request was cancelled."""
        return not self._cancelled.is_set()

    def _run(self) -> None:
        response = self._execute()
        with self._lock:
            self._response = response
            callbacks = list(self._callbacks.values())
        status = self.getStatus()
        for callback in callbacks:  # HandleI.notifyCallbacks: one-way, errors ignored
            with contextlib.suppress(Ice.LocalException):
                callback.finished(response, status)

    def _execute(self) -> Any:
        state = self._ctx.state
        faults = state.faults
        size = sum(
            state.files[f.getId().getValue()].size
            for f in self._files
            if f.getId().getValue() in state.files
        )
        deadline = time.monotonic() + faults.import_delay_s + state.import_time.seconds(size)
        while time.monotonic() < deadline and self._step():
            time.sleep(_STEP_S)
        if not self._step():
            return omero.cmd.ERR("import", "cancel", {"message": "Import cancelled"})
        if faults.import_error is not None:
            message, faults.import_error = faults.import_error, None
            return omero.cmd.ERR("import", "import-failed", {"message": message})
        try:
            pixels, objects = self._create_images()
            return omero.grid.ImportResponse(pixels=pixels, objects=objects)
        except omero.ServerError as exc:
            return omero.cmd.ERR("import", "import-failed", {"message": exc.message})

    def _create_images(self) -> tuple[list[Any], list[Any]]:
        state = self._ctx.state
        target = self._settings.userSpecifiedTarget
        main = self._files[0]
        stored = state.files[main.getId().getValue()]
        names = image_names(stored, main.getName().getValue())
        pixels: list[Any] = []
        objects: list[Any] = []
        with state.transaction():
            dataset = None
            if target is not None:
                dataset = state.get("Dataset", target.getId().getValue())
                link = omero.model.DatasetImageLinkI()
                permissions.check_link(
                    state, self._view.user_id, self._view.group_id, link, dataset
                )
            if not self._step():
                raise omero.InternalException(message="Import cancelled")
            for name in names:
                image = omero.model.ImageI()
                image.setName(rstring(name))
                image.setFileset(omero.model.FilesetI(self._fileset.getId().getValue(), False))
                state.store(image, self._view)
                image_id = image.getId().getValue()
                if dataset is not None:
                    link = omero.model.DatasetImageLinkI()
                    link.setParent(omero.model.DatasetI(dataset.getId().getValue(), False))
                    link.setChild(omero.model.ImageI(image_id, False))
                    state.store(link, self._view)
                pix = omero.model.PixelsI()
                pix.setImage(omero.model.ImageI(image_id, False))
                pixels.append(pix)
                objects.append(omero.model.ImageI(image_id, False))
            if stored.sniffer is not None and stored.sniffer.is_plate:
                objects.append(self._plate(main.getName().getValue(), stored.sniffer, pixels))
        # The bytes were needed to name the images; the checksum is kept.
        for ofile in self._files:
            kept = state.files.get(ofile.getId().getValue())
            if kept is not None and kept.keep:
                kept.chunks = []
        return pixels, objects

    def _plate(self, name: str, layout: Any, pixels: list[Any]) -> Any:
        """The Plate Bio-Formats reports for a plate CZI, saved in no Screen.

        Its wells hold the images (one WellSample each), which are in the
        Dataset too (TargetProcessor links every Image to a Dataset target).
        """
        state = self._ctx.state
        plate = omero.model.PlateI()
        plate.setName(rstring(name))
        plate.setRows(rint(layout.rows))
        plate.setColumns(rint(layout.columns))
        state.store(plate, self._view)
        for (row, column), pix in zip(layout.wells, pixels, strict=False):
            well = omero.model.WellI()
            well.setRow(rint(row))
            well.setColumn(rint(column))
            well.setPlate(omero.model.PlateI(plate.getId().getValue(), False))
            state.store(well, self._view)
            sample = omero.model.WellSampleI()
            sample.setWell(omero.model.WellI(well.getId().getValue(), False))
            sample.setImage(omero.model.ImageI(pix.getImage().getId().getValue(), False))
            state.store(sample, self._view)
        return omero.model.PlateI(plate.getId().getValue(), False)

    def getResponse(self, current: Any = None) -> Any:
        return self._response

    def getStatus(self, current: Any = None) -> Any:
        done = self._response is not None
        return omero.cmd.Status(
            source=None,
            category="import",
            name="import",
            flags=[omero.cmd.State.CANCELLED] if self._cancelled.is_set() else [],
            parameters={},
            currentStep=1 if done else 0,
            steps=1,
            startTime=self._started,
            stepStartTimes=[self._started],
            stepStopTimes=[],
            stopTime=0,
        )

    def addCallback(self, callback: Any, current: Any = None) -> None:
        # Glacier2 forwards the server's calls to a client's callback over that
        # client's own connection, so the stand-in sends them on the connection
        # the callback came over.  (HandleI first checkedCasts it, a call to the
        # client rather than a request of its, not modelled.)
        proxy = current.con.createProxy(callback.ice_getIdentity()).ice_oneway()
        with self._lock:
            self._callbacks[Ice.identityToString(callback.ice_getIdentity())] = (
                omero.cmd.CmdCallbackPrx.uncheckedCast(proxy)
            )

    def cancel(self, current: Any = None) -> bool:
        if self._response is not None:
            return False
        self._cancelled.set()
        return True

    def close(self, current: Any = None) -> None:
        # HandleI.close: an unfinished request is cancelled first.
        if self._response is None:
            self._cancelled.set()
        self._ctx.registry.remove(current.id)


def image_names(stored: StoredFile, file_name: str) -> list[str]:
    """Name images as OMERO does: the file name, plus ``[series]`` for multi-image files."""
    if not file_name.lower().endswith(KEPT):
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
