"""Thermo Fisher Velox EMD (Talos, Titan, Themis, Spectra): converted to one OME-TIFF.

Every real-valued image in the file (HAADF, DF4, BF, EDS element maps, TEM
camera stacks) becomes one OME Image named after its Velox title. Spectra,
spectrum images and complex images (FFT, DPC) are not images OMERO can show;
they are listed in :attr:`FileMetadata.skipped` instead.

Reading images without ``sparse``
---------------------------------
rosettasciio reads Velox files, but for a file with an EDS spectrum stream its
``FeiEMDReader._read_data`` insists that the ``sparse`` package is importable
even when only images are asked for (``select_type="images"``): it checks
``importlib.util.find_spec("sparse")`` before a spectrum-image step that then
returns at once without using it. ``sparse`` pulls in numba and llvmlite
(about 200 MB), which the installer must not carry. (The documented value
``select_type="image"`` is rejected with ``ValueError`` by rosettasciio 0.15.)

Rather than faking a ``sparse`` module in ``sys.modules`` (process-wide state,
visible to other threads while a conversion runs), :class:`_ImagesOnlyReader`
subclasses rosettasciio's reader and replaces only ``_read_data`` with its
images-only branch. Everything else, the metadata parsing, titles, axes and
unit scaling, stays rosettasciio's. We open the HDF5 file ourselves, read-only,
and close it when done: ``rsciio.emd.file_reader(lazy=True)`` never closes it,
which on Windows would keep the microscope's file locked. The subclass relies
on a private API, so ``pyproject.toml`` pins rosettasciio to 0.15.x and
``tests/formats/test_emd.py`` reads a file with a spectrum stream without
``sparse`` installed.

Scanning reads metadata with h5py alone (``_velox_meta.summarise``, about five
times quicker) and gives exactly what this reader gives; a file it does not
cover is read here instead, so damaged files are judged by one reader.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cci_uploader.formats import limits
from cci_uploader.formats._velox_limits import check_velox
from cci_uploader.formats._velox_meta import PER_METRE as _PER_METRE
from cci_uploader.formats._velox_meta import Unusual, summarise
from cci_uploader.formats._velox_meta import skipped_parts as _skipped_parts
from cci_uploader.formats.base import FileMetadata, FormatDescriptor, FormatError, starts_with

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

NAME = "emd"
EXTENSIONS = (".emd",)

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_DAMAGED = "is damaged or incomplete; copy it again from the microscope PC."

# Raw metadata sections copied into the OME-TIFF as original metadata.
_KEPT_SECTIONS = ("Instrument", "Acquisition", "Optics", "Stage", "Scan", "Sample")

# Library errors that mean "this file is damaged", as opposed to our bugs. h5py
# reports HDF5 errors it has no better class for (a bad B-tree) as RuntimeError;
# rosettasciio indexes whatever the file's JSON and links hold, so a broken
# link or a list where a dict belongs ends in TypeError, IndexError or
# AttributeError; a JSON integer too large for a float (``float(10**400)``)
# ends in OverflowError. Only the reading step is wrapped.
_READ_ERRORS = (
    OSError,
    RuntimeError,
    KeyError,
    ValueError,
    IndexError,
    TypeError,
    AttributeError,
    ArithmeticError,
)


@dataclass(frozen=True)
class _Signal:
    """One image signal as rosettasciio read it; ``data`` is a lazy dask array."""

    title: str
    data: Any
    pixel_size_m: tuple[float, float] | None


@dataclass(frozen=True)
class _Contents:
    signals: list[_Signal]
    skipped: list[str]
    raw: Mapping[str, Any]
    originals: tuple[Mapping[str, Any], ...] = ()


def is_supported(path: Path) -> bool:
    """Say whether ``path`` is an EMD file: ``.emd`` suffix and an HDF5 signature."""
    return path.suffix.lower() in EXTENSIONS and starts_with(path, _HDF5_MAGIC)


def _images_only_reader() -> Any:
    """Return a rosettasciio Velox reader that reads images and nothing else."""
    from rsciio.emd._emd_velox import FeiEMDReader

    class _ImagesOnlyReader(FeiEMDReader):  # type: ignore[misc]
        def _read_data(self, select_type: object) -> None:
            # rosettasciio's own "images" branch, minus its check for `sparse`.
            self.load_images = True
            self.load_SI = self.load_single_spectrum = False
            self._read_images()

    return _ImagesOnlyReader(lazy=True, select_type="images", load_SI_image_stack=True)


def _pixel_size(signal: Mapping[str, Any]) -> tuple[float, float] | None:
    """Return the (x, y) pixel size in metres.

    Velox's own value (``BinaryResult.PixelSize``, in ``PixelUnitX``) comes
    first: rosettasciio's axes rescale it to nm or pm for a readable scale bar,
    which can change the last digit. The axes are the fallback.
    """
    binary = signal["original_metadata"].get("BinaryResult", {})
    size, unit = binary.get("PixelSize"), binary.get("PixelUnitX")
    if isinstance(size, Mapping) and unit in _PER_METRE:
        try:
            x, y = float(size["width"]), float(size["height"])
        except (KeyError, TypeError, ValueError):
            pass
        else:
            if x > 0 and y > 0:
                return x / _PER_METRE[unit], y / _PER_METRE[unit]
    by_name = {axis.get("name"): axis for axis in signal["axes"]}
    sizes = []
    for name in ("x", "y"):
        axis = by_name.get(name)
        if axis is None or axis.get("units") not in _PER_METRE:
            return None  # reciprocal space (diffraction, FFT) or uncalibrated
        sizes.append(float(axis["scale"]) / _PER_METRE[str(axis["units"])])
    return sizes[0], sizes[1]


def _check_velox(handle: Any, path: Path) -> None:
    """Raise :class:`FormatError` unless ``handle`` is a Velox file with a data group."""
    import h5py

    version = handle.get("Version")
    if not isinstance(version, h5py.Dataset) or version.shape != (1,):
        raise FormatError(
            f"{path.name} is an HDF5 file but not a Velox EMD file; export it again from Velox."
        )
    fmt = json.loads(version[0]).get("format")
    if fmt not in ("Velox", "DevelopersKit"):
        raise FormatError(
            f"{path.name} is an EMD file written by {fmt or 'unknown software'}, "
            "not by Velox; only Velox EMD files can be converted."
        )
    if not isinstance(handle.get("Data"), h5py.Group):
        raise FormatError(f"{path.name} has no data section; export it again from Velox.")


@contextmanager
def _opened(path: Path) -> Iterator[_Contents]:
    """Open ``path`` read-only and yield its images, lazily; close it afterwards."""
    import h5py

    if not is_supported(path):
        raise FormatError(
            f"{path.name} is not an EMD file (it has no HDF5 signature); "
            "export it again from Velox."
        )
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise FormatError(f"{path.name} {_DAMAGED}") from exc
    with handle:
        try:
            _check_velox(handle, path)
            check_velox(handle, path)
            reader = _images_only_reader()
            reader.read_file(handle)
            signals, skipped = [], _skipped_parts(handle["Data"])
            for signal in reader.dictionaries:
                title = str(signal["metadata"]["General"].get("title") or "image")
                if np.iscomplexobj(signal["data"]):
                    skipped.append(f"skipped complex image '{title}'")
                    continue
                signals.append(_Signal(title, signal["data"], _pixel_size(signal)))
            originals = tuple(d["original_metadata"] for d in reader.dictionaries)
            raw = originals[0] if originals else {}
        except FormatError:
            raise
        except _READ_ERRORS as exc:
            raise FormatError(f"{path.name} {_DAMAGED}") from exc
        yield _Contents(signals, skipped, raw, originals)


def _earliest(originals: Sequence[Mapping[str, Any]]) -> dt.datetime | None:
    """Return the earliest acquisition start over the image signals that record one.

    Each image signal carries its own ``Acquisition`` section; a derived or
    edited signal may carry none, so the first image alone is not enough.
    """
    times = [t for t in map(_acquired, originals) if t is not None]
    return min(times) if times else None


def _acquired(raw: Mapping[str, Any]) -> dt.datetime | None:
    """Return the acquisition start; Velox stores it as unix seconds (UTC)."""
    acquisition = raw.get("Acquisition", {})
    if not isinstance(acquisition, Mapping):
        return None
    for key in ("AcquisitionStartDatetime", "AcquisitionDatetime"):
        try:
            seconds = int(acquisition.get(key, {}).get("DateTime", 0))
        except (TypeError, ValueError, AttributeError):
            continue
        if seconds > 0:
            try:
                return dt.datetime.fromtimestamp(seconds, dt.UTC)
            except (OverflowError, OSError, ValueError):
                continue
    return None


def _microscope(raw: Mapping[str, Any]) -> str | None:
    """Return the instrument model and serial number, e.g. ``Themis 3678``."""
    instrument = raw.get("Instrument", {})
    if not isinstance(instrument, Mapping):
        return None
    parts = [str(instrument.get(key) or "").strip() for key in ("InstrumentModel", "InstrumentId")]
    return " ".join(part for part in parts if part) or None


def _manufacturer(raw: Mapping[str, Any]) -> str | None:
    instrument = raw.get("Instrument", {})
    value = instrument.get("Manufacturer") if isinstance(instrument, Mapping) else None
    text = str(value or "").strip()
    return text or None


def _original_metadata(raw: Mapping[str, Any], path: Path) -> dict[str, str]:
    kept: dict[str, str] = {}
    for section in _KEPT_SECTIONS:
        limits.flatten(section, raw.get(section), kept, path)
    return kept


def _acquisition(raw: Mapping[str, Any], titles: Sequence[str]) -> dict[str, str]:
    """High tension, magnification and detectors, for the acquisition annotation."""
    optics = raw.get("Optics", {})
    optics = optics if isinstance(optics, Mapping) else {}
    pairs: dict[str, str] = {}
    with suppress(KeyError, TypeError, ValueError, OverflowError):
        pairs["High tension"] = f"{float(optics['AccelerationVoltage']) / 1000:g} kV"
    with suppress(KeyError, TypeError, ValueError, OverflowError):
        pairs["Magnification"] = f"{float(optics['NominalMagnification']):,.0f}x"
    if titles:
        pairs["Signals"] = ", ".join(dict.fromkeys(titles))
    return pairs


def _file_metadata(
    sizes: Sequence[tuple[float, float]],
    titles: Sequence[str],
    skipped: Sequence[str],
    raw: Mapping[str, Any],
    originals: Sequence[Mapping[str, Any]],
    path: Path,
) -> FileMetadata:
    images = len(titles)
    return FileMetadata(
        microscope=_microscope(raw),
        acquired=_earliest(originals),
        pixel_size_m=sizes[0] if sizes else None,
        images=images,
        skipped=tuple(skipped),
        extra=_original_metadata(raw, path),
        acquisition=_acquisition(raw, titles),
    )


def _metadata(contents: _Contents, path: Path) -> FileMetadata:
    sizes = [s.pixel_size_m for s in contents.signals if s.pixel_size_m is not None]
    titles = [s.title for s in contents.signals]
    return _file_metadata(sizes, titles, contents.skipped, contents.raw, contents.originals, path)


def read_metadata(path: Path) -> FileMetadata:
    """Read microscope, acquisition time, pixel size and image count from a Velox EMD.

    Parameters
    ----------
    path : Path
        The ``.emd`` file; opened read-only.

    Returns
    -------
    FileMetadata
        ``microscope`` is ``InstrumentModel InstrumentId`` from the raw metadata;
        ``pixel_size_m`` is the first image's.

    Raises
    ------
    FormatError
        If the file is not a readable Velox EMD file.
    """
    if is_supported(path):
        try:
            summary = summarise(path, check_velox)
        except (Unusual, *_READ_ERRORS):
            pass  # damaged or unusual: rosettasciio's reader decides, and says why
        else:
            return _file_metadata(
                summary.pixel_sizes,
                summary.titles,
                summary.skipped,
                summary.raw,
                summary.originals,
                path,
            )
    return _full_metadata(path)


def _full_metadata(path: Path) -> FileMetadata:
    """Read the metadata with rosettasciio's reader, as ``convert`` does."""
    with _opened(path) as contents:
        return _metadata(contents, path)


def _pixels(signal: _Signal, path: Path) -> NDArray[Any]:
    try:
        data: NDArray[Any] = np.asarray(signal.data.compute())
    except _READ_ERRORS as exc:
        raise FormatError(
            f"The '{signal.title}' image in {path.name} is damaged; "
            "copy the file again from the microscope PC."
        ) from exc
    if data.ndim not in (2, 3) or data.shape[-1] == 0 or data.shape[-2] == 0:
        raise FormatError(
            f"The '{signal.title}' image in {path.name} is empty; export it again from Velox."
        )
    return data


def convert(path: Path, out_dir: Path) -> list[Path]:
    """Write the file's images into one OME-TIFF, ``out_dir / "<stem>.ome.tif"``.

    The ``.emd`` file is opened read-only.

    Raises
    ------
    FormatError
        If the file cannot be read or holds no images (only spectra).
    """
    # Only converting needs ome-types (about 1 s to import), not a scan.
    from cci_uploader.formats.ometiff import OmeImage, write_converted

    with _opened(path) as contents:
        if not contents.signals:
            raise FormatError(
                f"{path.name} holds no images, only spectra; upload it as an attachment instead."
            )
        meta = _metadata(contents, path)
        images = [OmeImage(s.title, _pixels(s, path), s.pixel_size_m) for s in contents.signals]
        manufacturer = _manufacturer(contents.raw)
        return write_converted(path, out_dir, images, meta, manufacturer=manufacturer)


FORMAT = FormatDescriptor(
    name=NAME,
    label="Velox EMD",
    extensions=EXTENSIONS,
    is_supported=is_supported,
    read_metadata=read_metadata,
    convert=convert,
)
