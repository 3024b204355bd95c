"""Thermo Fisher EPU / ATLAS images: an ``.mrc`` with a companion ``.xml``.

The MRC holds the pixels, read through a read-only memory map. The XML
(``Fei.SharedObjects`` schema) holds the metadata and is authoritative: EPU
does not fill the MRC header's instrument fields, and its pixel size there is
only a copy.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import mrcfile

from cci_uploader.formats import _em_acquisition, limits
from cci_uploader.formats.base import (
    Companions,
    FileMetadata,
    FormatDescriptor,
    FormatError,
    local_time,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator
    from pathlib import Path

NAME = "mrc_xml"
EXTENSIONS = (".mrc",)

_NS = "http://schemas.datacontract.org/2004/07/Fei.SharedObjects"
_N = {"f": _NS}
_HEADER_BYTES = 1024
_MAP_ID_OFFSET = 208


def _companion_xml(path: Path) -> Path | None:
    for suffix in (".xml", ".XML"):
        candidate = path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def companion_of(path: Path) -> Path | None:
    """Return the ``.mrc`` an EPU ``.xml`` belongs to, or ``None`` if it has none.

    Parameters
    ----------
    path : Path
        A ``.xml`` file, e.g. ``Atlas_1.xml``.

    Returns
    -------
    Path or None
        ``Atlas_1.mrc`` next to it, if that file exists.
    """
    if path.suffix.lower() != ".xml":
        return None
    for suffix in (".mrc", ".MRC"):
        candidate = path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def is_supported(path: Path) -> bool:
    """Say whether ``path`` looks like an MRC file: suffix and header sniff."""
    if path.suffix.lower() not in EXTENSIONS:
        return False
    try:
        with path.open("rb") as fh:
            header = fh.read(_HEADER_BYTES)
    except OSError:
        return False
    if len(header) < _HEADER_BYTES:
        return False
    return header[_MAP_ID_OFFSET : _MAP_ID_OFFSET + 4] == b"MAP "


@contextmanager
def _open_pixels(path: Path) -> Iterator[Any]:
    """Yield the MRC's pixel array, memory-mapped read-only.

    Raises
    ------
    FormatError
        If the header is invalid or does not match the file's length.
    """
    if not is_supported(path):
        raise FormatError(
            f"{path.name} is not an MRC file (its header is not recognised); "
            "copy it again from the microscope PC."
        )
    limits.check_mrc_header(path)
    with warnings.catch_warnings():
        # mrcfile sets dtypes in place, which NumPy 2.5 deprecates; harmless here.
        warnings.filterwarnings("ignore", "Setting the dtype", DeprecationWarning)
        # mrcfile reports inconsistent files (wrong length, odd header) as warnings.
        warnings.simplefilter("error", RuntimeWarning)
        try:
            mrc = mrcfile.mmap(path, mode="r", permissive=False)
        except (ValueError, RuntimeWarning, OverflowError, TypeError, MemoryError) as exc:
            raise FormatError(
                f"{path.name} is damaged or incomplete and cannot be read ({exc}); "
                "copy it again from the microscope PC."
            ) from exc
        except OSError as exc:
            raise FormatError(
                f"{path.name} cannot be opened ({exc.strerror}); check it is not open elsewhere."
            ) from exc
    with mrc:
        data = mrc.data
        if data is None or data.ndim not in (2, 3) or data.size == 0:
            raise FormatError(
                f"{path.name} holds no 2-D image or image stack, so there is nothing to upload."
            )
        yield data


def _leaf_items(element: ET.Element, prefix: str) -> Iterator[tuple[str, str]]:
    """Yield ``(path, text)`` for every non-empty leaf under ``element``."""
    for child in element:
        name = child.tag.rpartition("}")[2]
        if name.startswith("KeyValueOf"):
            key = next((c.text for c in child if c.tag.endswith("}Key")), None)
            value = next((c.text for c in child if c.tag.endswith("}Value")), None)
            if key and value is not None:
                yield f"{prefix}{key}", value.strip()
        elif len(child):
            yield from _leaf_items(child, f"{prefix}{name}/")
        elif child.text and child.text.strip():
            yield f"{prefix}{name}", child.text.strip()


def _parse_xml(xml_path: Path) -> ET.Element:
    try:
        limits.check_xml_file(xml_path)
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        raise FormatError(
            f"{xml_path.name} is not readable XML ({exc}); copy it again from the microscope PC."
        ) from exc
    except OSError as exc:
        raise FormatError(
            f"{xml_path.name} cannot be opened ({exc.strerror}); check it is not open elsewhere."
        ) from exc
    if root.tag != f"{{{_NS}}}MicroscopeImage":
        raise FormatError(
            f"{xml_path.name} is not an EPU/ATLAS image description; "
            "copy the .xml that EPU saved with the .mrc."
        )
    return root


def _acquired(root: ET.Element) -> dt.datetime | None:
    """Return the acquisition time; EPU writes an offset, else it is local time."""
    return local_time(
        root.findtext("f:microscopeData/f:acquisition/f:acquisitionDateTime", None, _N)
    )


def _metres(node: ET.Element | None) -> float | None:
    if node is None:
        return None
    symbol = next(
        (e.text for e in node.iter() if e.tag.endswith("Symbol_x003E_k__BackingField")), "m"
    )
    try:
        value = float(node.findtext("f:numericValue", "", _N))
    except ValueError:
        return None
    if symbol != "m" or not value > 0:
        return None
    return value


def _pixel_size(root: ET.Element) -> tuple[float, float] | None:
    x = _metres(root.find("f:SpatialScale/f:pixelSize/f:x", _N))
    y = _metres(root.find("f:SpatialScale/f:pixelSize/f:y", _N))
    if x is None or y is None:
        return None
    return x, y


def _text(root: ET.Element, path: str) -> str | None:
    value = root.findtext(path, None, _N)
    return value.strip() if value and value.strip() else None


def read_metadata(path: Path) -> FileMetadata:
    """Read microscope, acquisition time and pixel size from the companion XML.

    Raises
    ------
    FormatError
        If the MRC is damaged, or its XML is missing or unreadable.
    """
    xml_path = _companion_xml(path)
    if xml_path is None:
        raise FormatError(f"{path.name} has no companion {path.stem}.xml; copy both files.")
    root = _parse_xml(xml_path)
    with _open_pixels(path):
        pass  # only to check the pixels are all there
    instrument = "f:microscopeData/f:instrument/"
    extra = dict(_leaf_items(root, ""))
    for key, value in (
        ("Instrument ID", _text(root, instrument + "f:InstrumentID")),
        ("Acceleration voltage (V)", _text(root, "f:microscopeData/f:gun/f:AccelerationVoltage")),
    ):
        if value is not None:
            extra[key] = value
    return FileMetadata(
        microscope=_text(root, instrument + "f:InstrumentModel"),
        acquired=_acquired(root),
        pixel_size_m=_pixel_size(root),
        companions=(xml_path,),
        images=1,
        extra=extra,
        acquisition=_em_acquisition.pick(extra, _em_acquisition.EPU_KEYS),
    )


def convert(path: Path, out_dir: Path) -> list[Path]:
    """Write the MRC's pixels and the XML's metadata into one OME-TIFF.

    Returns
    -------
    list of Path
        ``[out_dir / "<stem>.ome.tif"]``.
    """
    # Only converting needs ome-types (about 1 s to import), not a scan.
    from cci_uploader.formats.ometiff import OmeImage, write_converted

    meta = read_metadata(path)
    with _open_pixels(path) as data:
        images = [OmeImage(name=path.stem, data=data, pixel_size_m=meta.pixel_size_m)]
        # The Fei.SharedObjects schema is written only by FEI / Thermo Fisher software.
        return write_converted(path, out_dir, images, meta, manufacturer="Thermo Fisher Scientific")


FORMAT = FormatDescriptor(
    name=NAME,
    label="MRC+XML",
    extensions=EXTENSIONS,
    is_supported=is_supported,
    read_metadata=read_metadata,
    convert=convert,
    # A lone .xml is most likely not microscopy data, so it is simply not supported.
    companions=Companions(suffixes=(".xml",), main_of=companion_of),
)
