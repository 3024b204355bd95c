"""What a scan needs from a TIA ``.ser``, read from its header, not its pixels.

rosettasciio's ``ser_reader`` reads every element of the series into memory
(``load_ser_file``) even when asked to be lazy: scanning a folder with a 4 GB
image series took 4 GB and seconds. A scan only needs three things per
series: whether it is complex, how many dimensions rosettasciio gives it
(2 or 3 are images; more is a scan the upload skips), and the units of its
x and y axes (nanometres, or reciprocal space: no pixel size). This module
works them out from the header's dimension array and the first element's
header, following ``ser_reader`` and ``_guess_units_from_mode`` of
rosettasciio 0.7+ (``rsciio/tia/_api.py``) step by step.

It covers the common case only: one navigation dimension (a single image or a
series). Anything else (no dimension array, a map of several, odd unit
bytes, a date rosettasciio's parser would judge) raises :class:`Unusual`, and
the caller lets rosettasciio read the file, so the result, or the refusal,
is always the one rosettasciio's path gives. ``tests/formats/test_ser_summary.py``
compares the two on the samples and on edited variants.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

_COMPLEX_KINDS = (9, 10)  # rosettasciio's data_types: "<c8", "<c16"


class Unusual(Exception):
    """The series is outside what :func:`summarise` covers; use rosettasciio."""


@dataclass(frozen=True)
class SerSummary:
    """An image series as rosettasciio's lazy reader would describe it."""

    complex: bool
    ndim: int
    xy_units: frozenset[str | None]


@dataclass(frozen=True)
class _Dimension:
    size: int
    units: str | None


def _dimension(data: bytes, at: int) -> tuple[_Dimension, int]:
    """One entry of the header's dimension array, and where the next one starts."""
    size = struct.unpack_from("<I", data, at)[0]
    description = struct.unpack_from("<I", data, at + 24)[0]
    units_at = at + 28 + description
    units_length = struct.unpack_from("<I", data, units_at)[0]
    raw = data[units_at + 4 : units_at + 4 + units_length]
    if len(raw) != units_length:
        raise Unusual("dimension array cut short")
    try:
        # numpy's bytes fields drop trailing NULs, so rosettasciio's units do too.
        units = raw.rstrip(b"\0").decode("utf-8") if units_length > 0 else None
    except UnicodeDecodeError as exc:
        raise Unusual("units are not UTF-8") from exc
    return _Dimension(size, units), units_at + 4 + units_length


def _header(path: Path) -> tuple[int, int, int, list[_Dimension]]:
    """Total and valid element counts, the first element's offset, and the dimensions."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)  # the dimension array; TIA writes a few hundred bytes
        version = struct.unpack_from("<H", head, 4)[0]
        total, valid = struct.unpack_from("<II", head, 14)
        offset_format, start = ("<I", 30) if version <= 528 else ("<Q", 34)
        table = struct.unpack_from(offset_format, head, 22)[0]
        count = struct.unpack_from("<I", head, 22 + struct.calcsize(offset_format))[0]
        if count != 1:
            raise Unusual(f"{count} navigation dimensions")
        dimension, _ = _dimension(head, start)
        fh.seek(table)
        first = struct.unpack(offset_format, fh.read(struct.calcsize(offset_format)))[0]
    return total, valid, first, [dimension]


def _element_kind(path: Path, offset: int) -> int:
    """The data type of the first image element (``get_data_dtype_list``'s)."""
    with path.open("rb") as fh:
        fh.seek(offset + 40)
        kind: int = struct.unpack("<H", fh.read(2))[0]
    return kind


def _guess_units(info: Mapping[str, Any], dimension: _Dimension) -> str:
    """``_guess_units_from_mode``: real or reciprocal space, from the EMI's mode."""
    description = info.get("ExperimentalDescription")
    acquire = info.get("AcquireInfo")
    if not isinstance(description, dict) or "Mode" not in description:
        return "meters"  # no mode: rosettasciio warns and assumes real space
    if not isinstance(acquire, dict):
        return "meters"  # ``AcquireInfo.keys()`` fails the same way
    mode = description["Mode"]
    if not isinstance(mode, str):
        raise Unusual("the mode is not text")
    is_camera = "CameraNamePath" in acquire
    is_stack = dimension.units is None  # Dim-1_UnitsLength == 0
    is_diffraction_scan = dimension.size > 1 and not is_stack
    if "STEM" in mode:
        return "1/meters" if is_camera or is_diffraction_scan else "meters"
    return "1/meters" if "Diffraction" in mode else "meters"


def _nm(units: str | None) -> str | None:
    """Rosettasciio's last step: SI lengths shown in nanometres."""
    return {"meters": "nm", "1/meters": "1 / nm"}.get(units or "", units)


def _check_date(info: Mapping[str, Any]) -> None:
    """``ser_reader`` parses ``AcquireDate`` with dateutil; a text it refuses is its call."""
    if "AcquireDate" not in info:
        return
    value = info["AcquireDate"]
    if not isinstance(value, str):
        raise Unusual("AcquireDate is not text")
    from dateutil import parser  # type: ignore[import-untyped]

    try:
        parser.parse(value)
    except (ValueError, OverflowError) as exc:
        raise Unusual("AcquireDate rosettasciio cannot parse") from exc


def summarise(ser: Path, info: Mapping[str, Any]) -> SerSummary:
    """Describe the image series ``ser`` (already checked by ``_ser_header.check_ser``).

    ``info`` is its EMI ObjectInfo as rosettasciio parses it (a dict).

    Raises
    ------
    Unusual
        If rosettasciio should read it instead.
    """
    _check_date(info)
    try:
        total, valid, first, [dimension] = _header(ser)
        kind = _element_kind(ser, first)
    except (OSError, struct.error) as exc:
        raise Unusual("header not readable here") from exc
    # The navigation axis: there unless its size is one; named "x" if in metres.
    navigation = dimension.size != 1
    if total != valid:  # only the valid elements are read
        if valid == 1:
            navigation = False  # a single image after all
        elif not navigation:
            raise Unusual("valid elements but a dimension of one")  # rosettasciio fails
    xy_units = {_nm(_guess_units(info, dimension))}
    if navigation and dimension.units == "meters":
        xy_units.add("nm")
    return SerSummary(kind in _COMPLEX_KINDS, 3 if navigation else 2, frozenset(xy_units))
