"""Zeiss SmartSEM TIFF (Sigma, Merlin, GeminiSEM, Crossbeam): converted to OME-TIFF.

A SmartSEM TIFF is an ordinary TIFF with SmartSEM's parameter dump in
private tag 34118 (``CZ_SEM``), which tifffile parses into
``sem_metadata``: ``{"ap_date": ("Date", "3 Mar 2025"), ...}``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import tifffile

from cci_uploader.formats import _tiff, limits
from cci_uploader.formats._tiff_tags import first_page_tags
from cci_uploader.formats.base import FileMetadata, FormatDescriptor, FormatError

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

NAME = "sem_tif"
EXTENSIONS = (".tif", ".tiff")

_CZ_SEM = 34118
# SmartSEM's "Pixel Size" is for its 1024-pixel-wide display, whatever the stored width.
_DISPLAY_WIDTH = 1024
# Powers of ten of each length unit SmartSEM writes (micro with either mu sign).
_UNITS = {"pm": -12, "nm": -9, "µm": -6, "μm": -6, "um": -6, "mm": -3, "m": 0}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DATE = re.compile(r"(\d{1,2})[\s./-]*([A-Za-z]{3})[A-Za-z]*[\s./-]*(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_AGAIN = "copy it again from the microscope PC"


def is_supported(path: Path) -> bool:
    """Say whether ``path`` is a TIFF whose first page carries the ``CZ_SEM`` tag."""
    if not path.name.lower().endswith(EXTENSIONS):
        return False
    tags = first_page_tags(path)  # a plain "no" without parsing the page
    if tags is not None and _CZ_SEM not in tags:
        return False
    try:
        with tifffile.TiffFile(path) as tif:
            return _CZ_SEM in tif.pages.first.tags
    except Exception:  # a sniff must never raise; any unreadable file is simply "not ours"
        return False


def _length_m(value: Any) -> float | None:
    """Return a ``(label, number, unit)`` tuple's length in metres."""
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    number, unit = value[1], value[2]
    if isinstance(number, bool) or not isinstance(number, int | float) or unit not in _UNITS:
        return None
    # Shift the decimal exponent rather than multiply, so "4.990 nm" is exactly 4.99e-9.
    metres = float(Decimal(repr(float(number))).scaleb(_UNITS[unit]))
    return metres if math.isfinite(metres) and metres > 0 else None


def _pixel_size(sem: dict[str, Any], width: int) -> tuple[float, float] | None:
    """Return the stored image's pixel size (SEM pixels are square)."""
    size = _length_m(sem.get("ap_image_pixel_size"))
    if size is None:
        display = _length_m(sem.get("ap_pixel_size"))
        if display is None or width <= 0:
            return None
        size = display * _DISPLAY_WIDTH / width
    return size, size


def _value(sem: dict[str, Any], key: str) -> str | None:
    value = sem.get(key)
    if isinstance(value, tuple) and len(value) >= 2 and str(value[1]).strip():
        return str(value[1]).strip()
    return None


def _acquired(sem: dict[str, Any]) -> dt.datetime | None:
    """Return the acquisition time: the microscope PC's local time, here made aware."""
    date = _DATE.search(_value(sem, "ap_date") or "")
    clock = _TIME.search(_value(sem, "ap_time") or "")
    if date is None or clock is None or date.group(2).lower() not in _MONTHS:
        return None
    try:
        naive = dt.datetime(
            int(date.group(3)),
            _MONTHS[date.group(2).lower()],
            int(date.group(1)),
            int(clock.group(1)),
            int(clock.group(2)),
            int(clock.group(3) or 0),
        )
    except ValueError:
        return None
    return naive.astimezone()


def _original(sem: dict[str, Any]) -> dict[str, str]:
    """Return SmartSEM's parameters as label to text (``"EHT": "5.0 kV"``)."""
    result: dict[str, str] = {}
    for key, value in sem.items():
        if not key or not isinstance(value, tuple) or not value:
            continue
        label = str(value[0]).strip() or key
        if label in result:
            label = f"{label} [{key}]"
        result[label] = " ".join(str(part) for part in value[1:]).strip()
    return result


# SmartSEM parameters the acquisition annotation shows, by their CZ_SEM keys.
_ACQUISITION_KEYS = {
    "High tension": "ap_actualkv",
    "Magnification": "ap_mag",
    "Detector": "dp_detector_type",
    "Working distance": "ap_wd",
}


def _acquisition(sem: dict[str, Any]) -> dict[str, str]:
    pairs = {}
    for label, key in _ACQUISITION_KEYS.items():
        value = sem.get(key)
        if isinstance(value, tuple) and len(value) >= 2:
            text = " ".join(str(part) for part in value[1:]).strip()
            if text:
                pairs[label] = text
    return pairs


# Texts int() and float() read without fail: tried first, so an ordinary file's
# 1,700 lines raise no exceptions (which cost half of its parsing).
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text: str) -> Any:
    """``text`` as an int, else a float, else unchanged (as tifffile's ``astype``)."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    head = text.lstrip()[:1]
    # Neither int() nor float() reads a text starting with a letter, but for inf and nan.
    if head.isalpha() and head not in "iInN":
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except (ValueError, AttributeError, TypeError, UnicodeEncodeError):
            pass
    return text


def parse_cz_sem(data: bytes) -> dict[str, Any]:
    """Return SmartSEM's ``CZ_SEM`` text as tifffile's ``read_cz_sem`` does, in linear time.

    Keys are the lower-cased upper-case lines (``AP_MAG``); each maps to
    ``(label, value)`` or ``(label, number, unit)``; lines outside any
    parameter go, as numbers where they are, to the ``""`` entry.  tifffile
    builds that entry one tuple at a time (quadratic: milliseconds per file
    even for ordinary ones); here it is collected once.
    """
    end = data.find(b"\0")
    raw = data if end < 0 else data[:end]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # strict, as tifffile: undecodable text raises
    result: dict[str, Any] = {"": ()}
    loose: list[Any] = []
    key = None
    for line in text.splitlines():
        if line.isupper():
            key = line.lower()
            continue
        if not key:
            loose.append(_number(line))
            continue
        name, sep, value = line.partition("=")
        if not sep:
            name, sep, value = line.partition(":")
            if not sep:
                continue  # the parameter waits for a line it can read
        value = value.strip()
        parts = value.split()
        number = _number(parts[0]) if len(parts) == 2 else value
        if len(parts) == 2 and number != parts[0]:
            result[key] = (name.strip(), number, parts[1])
        else:
            number = _number(value)
            if number != value:
                item: Any = number
            else:
                item = {"No": False, "Off": False, "Yes": True, "On": True}.get(value, value)
            result[key] = (name.strip(), item)
        key = None
    result[""] = tuple(loose)
    return result


def _sem_tag(tif: tifffile.TiffFile, tag: tifffile.TiffTag) -> Any:
    """The parsed ``CZ_SEM`` tag (tifffile's own parser for text it cannot decode)."""
    handle = tif.filehandle
    handle.seek(tag.valueoffset)
    try:
        return parse_cz_sem(handle.read(tag.count))
    except UnicodeDecodeError:
        return tag.value


def _sem_metadata(tif: tifffile.TiffFile, path: Path) -> dict[str, Any]:
    first = tif.pages.first
    if _CZ_SEM not in first.tags:
        raise FormatError(
            f"{path.name} is a TIFF without Zeiss SmartSEM metadata; export it again from SmartSEM."
        )
    limits.check_sem_text(tif, first.tags[_CZ_SEM], path)
    sem = _sem_tag(tif, first.tags[_CZ_SEM])
    if not isinstance(sem, dict) or len(sem) < 2:
        raise FormatError(
            f"{path.name} has an empty or unreadable SmartSEM metadata block; "
            "export it again from SmartSEM."
        )
    return sem


def _pages(tif: tifffile.TiffFile, path: Path) -> list[tifffile.TiffPage]:
    """Return every image page, checking its pixels are present and not a bomb."""
    pages: list[tifffile.TiffPage] = []
    for page in _tiff.pages(tif, path, _AGAIN):
        stored = sum(page.databytecounts)
        compressed = page.compression != tifffile.COMPRESSION.NONE
        if not compressed and stored < page.nbytes:
            raise _tiff.incomplete(path, _AGAIN)
        limits.check_unpacked(path, compressed, page.nbytes, stored)
        pages.append(page)
    return pages


def _layout(page: tifffile.TiffPage, path: Path) -> str:
    """Say how a page's pixels are converted: ``grey``, ``palette`` or ``rgb``.

    A grey palette is only a display LUT: the stored values are the signal, so
    it is converted as greyscale. Any other palette is expanded to RGB, as are
    RGB pages; nothing here is refused for a choice made at the microscope
    unless OME-TIFF cannot hold it.
    """
    if page.photometric == tifffile.PHOTOMETRIC.PALETTE and page.samplesperpixel == 1:
        colours = page.colormap
        if colours is None or page.bitspersample not in (1, 2, 4, 8, 16):
            raise FormatError(
                f"{path.name} has a damaged colour palette; copy it again from the microscope PC."
            )
        if np.all(colours[0] == colours[1]) and np.all(colours[0] == colours[2]):
            return "grey" if page.bitspersample in (8, 16) else "palette"
        return "palette"
    if page.samplesperpixel in (3, 4) and page.photometric == tifffile.PHOTOMETRIC.RGB:
        if page.bitspersample in (8, 16) and page.planarconfig == tifffile.PLANARCONFIG.CONTIG:
            return "rgb"
    elif (
        page.samplesperpixel == 1
        and page.ndim == 2
        and page.bitspersample in (8, 16, 32)
        and page.sampleformat != tifffile.SAMPLEFORMAT.COMPLEXINT
    ):
        return "grey"
    raise FormatError(
        f"{path.name} has pixels of a layout OME-TIFF cannot hold ({page.bitspersample}-bit, "
        f"{page.samplesperpixel} samples); save it as 8- or 16-bit in SmartSEM to upload it."
    )


def _expand_palette(indices: NDArray[Any], colours: NDArray[Any]) -> NDArray[Any]:
    """Return (3, Y, X) RGB: 8-bit when the palette is (as usual) 8-bit scaled by 257."""
    table = colours[:3]
    if np.all(table % 257 == 0):
        table = (table // 257).astype(np.uint8)
    # An index past the palette's end would be out of range: clip it to the last colour.
    clipped = np.minimum(indices, table.shape[1] - 1)
    return np.stack([channel[clipped] for channel in table])


def read_metadata(path: Path) -> FileMetadata:
    """Read microscope, acquisition time and pixel size from the ``CZ_SEM`` tag.

    Raises
    ------
    FormatError
        If the file is not a readable SmartSEM TIFF.
    """
    with _tiff.reading(path, _AGAIN):
        limits.tiff_pages(path)  # before tifffile follows a looping or endless page chain
        with tifffile.TiffFile(path) as tif:
            sem = _sem_metadata(tif, path)
            pages = _pages(tif, path)
            width = pages[0].imagewidth
    extra = _original(sem)
    return FileMetadata(
        microscope=_value(sem, "dp_sem") or _value(sem, "sv_serial_number"),
        acquired=_acquired(sem),
        pixel_size_m=_pixel_size(sem, width),
        images=len(pages),
        extra=extra,
        software=" ".join(p for p in ("SmartSEM", _value(sem, "sv_version")) if p)
        if _value(sem, "sv_version")
        else None,
        acquisition=_acquisition(sem),
    )


def _page_pixels(path: Path, tif: tifffile.TiffFile, index: int) -> tuple[NDArray[Any], bool]:
    """Return one page's pixels (memory-mapped when stored uncompressed) and whether RGB.

    RGB comes back as (3, Y, X), the channels written as one plane each.
    """
    page = cast("tifffile.TiffPage", tif.pages[index])  # _pages checked every page
    layout = _layout(page, path)
    if page.is_memmappable and layout == "grey":
        mapped: NDArray[Any] = tifffile.memmap(path, page=index, mode="r")
        return mapped, False
    data: NDArray[Any] = page.asarray()
    if layout == "palette":
        return _expand_palette(data, cast("NDArray[Any]", page.colormap)), True
    if layout == "rgb":
        return np.moveaxis(data[..., :3], -1, 0), True
    return data, False


def convert(path: Path, out_dir: Path) -> list[Path]:
    """Write every page of the SmartSEM TIFF as one OME Image of one OME-TIFF.

    Returns
    -------
    list of Path
        ``[out_dir / "<stem>.ome.tif"]``.
    """
    # Only converting needs ome-types (about 1 s to import), not a scan.
    from cci_uploader.formats.ometiff import OmeImage, write_converted

    meta = read_metadata(path)
    with _tiff.reading(path, _AGAIN), tifffile.TiffFile(path) as tif:
        sem = _sem_metadata(tif, path)
        count = len(_pages(tif, path))
        images = []
        for index in range(count):
            data, rgb = _page_pixels(path, tif, index)
            name = _tiff.page_name(path, index + 1, count)
            size = _pixel_size(sem, data.shape[-1])
            images.append(OmeImage(name, data, size, rgb=rgb))
        return write_converted(path, out_dir, images, meta, manufacturer="Carl Zeiss")


FORMAT = FormatDescriptor(
    name=NAME,
    label="Zeiss SEM TIFF",
    extensions=EXTENSIONS,
    is_supported=is_supported,
    read_metadata=read_metadata,
    convert=convert,
)
