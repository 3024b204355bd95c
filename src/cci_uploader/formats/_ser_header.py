"""A TIA ``.ser`` header, checked against the file's size before rosettasciio reads it.

rosettasciio trusts the element count, the offsets and the dimension array's
lengths, so a damaged header would make it allocate gigabytes or loop for
hours; :func:`check_ser` refuses such a file with one line first.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cci_uploader.formats.base import FormatError

if TYPE_CHECKING:
    from pathlib import Path

_SER_VERSIONS = {0x0210: ("<I", 30), 0x0220: ("<Q", 34)}  # offset format, header size
_SPECTRUM, _IMAGE = 0x4120, 0x4122
_TAG_SIZES = {0x4152: 8, 0x4142: 24}  # time only; time and stage position
_ITEM_SIZES = {1: 1, 2: 2, 3: 4, 4: 1, 5: 2, 6: 4, 7: 4, 8: 8, 9: 8, 10: 16}
# The header's dimension array: TIA writes at most two entries of a few dozen bytes.
_MAX_DIMENSIONS = 8
_MAX_DIMENSION_BYTES = 64 * 1024


@dataclass(frozen=True)
class SerHeader:
    """What :func:`check_ser` learns from a SER's header and first element."""

    images: bool
    elements: int
    pixel_size_m: tuple[float, float] | None
    first_time: int


def _dimensions_fit(data: bytes, count: int) -> bool:
    """Whether ``count`` dimension entries fit in ``data``, the bytes before the offset table.

    rosettasciio makes a numpy field of each entry's description and units
    length as the header states them: a length of 2**31 would allocate 2 GB.
    """
    if count > _MAX_DIMENSIONS:
        return False
    at = 0
    for _ in range(count):
        if at + 28 > len(data):
            return False
        at += 28 + struct.unpack_from("<I", data, at + 24)[0]  # past the description
        if at + 4 > len(data):
            return False
        at += 4 + struct.unpack_from("<I", data, at)[0]  # past the units
    return at <= len(data)


def check_ser(path: Path) -> SerHeader:
    """Validate a SER's header against its size; raise :class:`FormatError` if damaged."""
    damaged = FormatError(
        f"{path.name} is damaged or incomplete; copy it again from the microscope PC."
    )
    try:
        with path.open("rb") as fh:
            head = fh.read(34)
            if len(head) < 30 or head[:4] != b"II\x97\x01":
                raise FormatError(
                    f"{path.name} is not a TIA series (.ser) file; "
                    "copy the right one from the microscope PC."
                )
            size = path.stat().st_size
            version = struct.unpack_from("<H", head, 4)[0]
            if version not in _SER_VERSIONS:
                raise FormatError(
                    f"{path.name} is a TIA series of a version this tool cannot read; "
                    "export it as TIFF in TIA."
                )
            offset_format, header_end = _SER_VERSIONS[version]
            if len(head) < header_end:
                raise damaged
            data_type, tag_type, total, valid = struct.unpack_from("<IIII", head, 6)
            table = struct.unpack_from(offset_format, head, 22)[0]
            step = struct.calcsize(offset_format)
            if (
                data_type not in (_SPECTRUM, _IMAGE)
                or tag_type not in _TAG_SIZES
                or not 0 < valid <= total
                or not header_end <= table <= size - 2 * total * step
                or table - header_end > _MAX_DIMENSION_BYTES
            ):
                raise damaged
            dimensions = struct.unpack_from("<I", head, header_end - 4)[0]
            fh.seek(header_end)
            if not _dimensions_fit(fh.read(table - header_end), dimensions):
                raise damaged
            fh.seek(table)
            offsets = np.frombuffer(fh.read(valid * step), dtype=offset_format)
            fh.seek(table + total * step)
            tag_offsets = np.frombuffer(fh.read(valid * step), dtype=offset_format)
            header_size = 50 if data_type == _IMAGE else 26
            fh.seek(int(offsets[0]))
            element = fh.read(header_size)
            if len(element) < header_size:
                raise damaged
            if data_type == _IMAGE:
                dx, dy, kind, nx, ny = struct.unpack_from("<8xd4x8xd4xHII", element)
                pixels, calibration = nx * ny, (dx, dy)
            else:
                kind, pixels = struct.unpack_from("<20xHI", element)
                calibration = (0.0, 0.0)
            if kind not in _ITEM_SIZES or pixels == 0:
                raise damaged
            span = header_size + pixels * _ITEM_SIZES[kind]
            tag_span = _TAG_SIZES[tag_type]
            if (
                np.any(offsets < header_end)
                or np.any(offsets > size - span - tag_span)
                or np.any(tag_offsets > size - tag_span)
            ):
                raise damaged
            fh.seek(int(tag_offsets[0]) + 4)
            first_time = struct.unpack("<I", fh.read(4))[0]
    except OSError as exc:
        raise FormatError(f"{path.name} cannot be opened ({exc.strerror or exc}).") from exc
    except (struct.error, ValueError) as exc:
        raise damaged from exc
    pixel_size = calibration if all(0 < d < 1 for d in calibration) else None
    return SerHeader(data_type == _IMAGE, valid, pixel_size, first_time)
