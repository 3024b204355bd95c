"""Zeiss SmartSEM TIFF (Sigma, Merlin, GeminiSEM, Crossbeam): converted to OME-TIFF.

A SmartSEM TIFF is an ordinary TIFF with SmartSEM's parameter dump in
private tag 34118 (``CZ_SEM``), which tifffile parses into
``sem_metadata``: ``{"ap_date": ("Date", "3 Mar 2025"), ...}``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import tifffile
from numpy.typing import NDArray

from cci_uploader.formats import limits
from cci_uploader.formats.base import FileMetadata, FormatError
from cci_uploader.formats.ometiff import OmeImage, write_ome_tiff

NAME = "sem_tif"
EXTENSIONS = (".tif", ".tiff")
CONVERTS = True

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
# What tifffile raises for TIFFs damaged in different ways.
_TIFF_ERRORS = (
    tifffile.TiffFileError,
    ValueError,
    struct.error,
    IndexError,
    KeyError,
    OverflowError,
    TypeError,
    EOFError,
    MemoryError,
)


def is_supported(path: Path) -> bool:
    """Say whether ``path`` is a TIFF whose first page carries the ``CZ_SEM`` tag."""
    if not path.name.lower().endswith(EXTENSIONS):
        return False
    try:
        with tifffile.TiffFile(path) as tif:
            return _CZ_SEM in tif.pages.first.tags
    except Exception:  # a sniff must never raise; any unreadable file is simply "not ours"
        return False


def _damaged(path: Path, exc: BaseException) -> FormatError:
    return FormatError(
        f"{path.name} is damaged or incomplete and cannot be read ({exc}); "
        "copy it again from the microscope PC."
    )


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


def _sem_metadata(tif: tifffile.TiffFile, path: Path) -> dict[str, Any]:
    first = tif.pages.first
    if _CZ_SEM not in first.tags:
        raise FormatError(
            f"{path.name} is a TIFF without Zeiss SmartSEM metadata; export it again from SmartSEM."
        )
    limits.check_sem_text(tif, first.tags[_CZ_SEM], path)
    sem = first.tags[_CZ_SEM].value
    if not isinstance(sem, dict) or len(sem) < 2:
        raise FormatError(
            f"{path.name} has an empty or unreadable SmartSEM metadata block; "
            "export it again from SmartSEM."
        )
    return sem


def _pages(tif: tifffile.TiffFile, path: Path) -> list[tifffile.TiffPage]:
    """Return every image page, checking its pixels are present and greyscale."""
    size = path.stat().st_size
    pages: list[tifffile.TiffPage] = []
    for page in tif.pages:
        if not isinstance(page, tifffile.TiffPage):
            raise FormatError(
                f"{path.name} has an unreadable page; copy it again from the microscope PC."
            )
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False)]
        stored = sum(page.databytecounts)
        if (
            not ends
            or max(ends) > size
            or 0 in page.shape
            or (page.compression == tifffile.COMPRESSION.NONE and stored < page.nbytes)
        ):
            raise FormatError(
                f"{path.name} is incomplete (its pixels are cut off); "
                "copy it again from the microscope PC."
            )
        _check_greyscale(page, path)
        limits.check_unpacked(
            path, page.compression != tifffile.COMPRESSION.NONE, page.nbytes, stored
        )
        pages.append(page)
    return pages


def _check_greyscale(page: tifffile.TiffPage, path: Path) -> None:
    if (
        page.bitspersample not in (8, 16, 32)
        or page.sampleformat == tifffile.SAMPLEFORMAT.COMPLEXINT
    ):
        raise FormatError(
            f"{path.name} has {page.bitspersample}-bit pixels; save it as 8- or 16-bit "
            "greyscale in SmartSEM to upload it."
        )
    if page.samplesperpixel != 1 or page.ndim != 2:
        raise FormatError(
            f"{path.name} is a colour image; save it in greyscale in SmartSEM to upload it."
        )
    if page.photometric == tifffile.PHOTOMETRIC.PALETTE:
        colours = page.colormap
        # A grey palette is only a display LUT: the stored values are the signal.
        if colours is None or not (
            np.all(colours[0] == colours[1]) and np.all(colours[0] == colours[2])
        ):
            raise FormatError(
                f"{path.name} uses a colour palette; save it in greyscale in SmartSEM to upload it."
            )


def read_metadata(path: Path) -> FileMetadata:
    """Read microscope, acquisition time and pixel size from the ``CZ_SEM`` tag.

    Raises
    ------
    FormatError
        If the file is not a readable SmartSEM TIFF.
    """
    try:
        limits.tiff_pages(path)  # before tifffile follows a looping or endless page chain
        with tifffile.TiffFile(path) as tif:
            sem = _sem_metadata(tif, path)
            pages = _pages(tif, path)
            width = pages[0].shape[1]
    except OSError as exc:
        raise FormatError(
            f"{path.name} cannot be opened ({exc.strerror or exc}); check it is not open elsewhere."
        ) from exc
    except _TIFF_ERRORS as exc:
        raise _damaged(path, exc) from exc
    return FileMetadata(
        microscope=_value(sem, "dp_sem") or _value(sem, "sv_serial_number"),
        acquired=_acquired(sem),
        pixel_size_m=_pixel_size(sem, width),
        images=len(pages),
        extra=_original(sem),
    )


def _page_pixels(path: Path, tif: tifffile.TiffFile, index: int) -> NDArray[Any]:
    """Return one page's pixels, memory-mapped when stored uncompressed."""
    page = cast(tifffile.TiffPage, tif.pages[index])  # _pages checked every page
    if page.is_memmappable:
        mapped: NDArray[Any] = tifffile.memmap(path, page=index, mode="r")
        return mapped
    return page.asarray()


def convert(path: Path, out_dir: Path) -> list[Path]:
    """Write every page of the SmartSEM TIFF as one OME Image of one OME-TIFF.

    Returns
    -------
    list of Path
        ``[out_dir / "<stem>.ome.tif"]``.
    """
    meta = read_metadata(path)
    try:
        with tifffile.TiffFile(path) as tif:
            sem = _sem_metadata(tif, path)
            count = len(_pages(tif, path))
            images = []
            for index in range(count):
                data = _page_pixels(path, tif, index)
                name = path.stem if count == 1 else f"{path.stem} (page {index + 1})"
                images.append(OmeImage(name, data, _pixel_size(sem, data.shape[1])))
            out = write_ome_tiff(
                out_dir / f"{path.stem}.ome.tif",
                images,
                microscope_model=meta.microscope,
                manufacturer="Carl Zeiss",
                acquired=meta.acquired,
                original_metadata=meta.extra,
            )
    except OSError as exc:
        raise FormatError(
            f"{path.name} cannot be read ({exc.strerror or exc}); check it is not open elsewhere."
        ) from exc
    except _TIFF_ERRORS as exc:
        raise _damaged(path, exc) from exc
    return [out]
