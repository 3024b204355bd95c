"""A CZI's segment layout, checked against the file before pylibCZIrw reads it.

A CZI is a chain of segments (``ZISRAWFILE`` header, ``ZISRAWDIRECTORY``,
``ZISRAWSUBBLOCK``, ``ZISRAWMETADATA``...), each a 16-byte id, its allocated
and used sizes, then its data. The file header points to the subblock
directory and the metadata segment. libCZI reads the directory as it is and
parses the metadata XML recursively, so a garbage directory was accepted
(and refused only by the server) and a 200,000-deep XML took gigabytes.
Layout from Zeiss's CZI file format description (ZISRAW 1.2), as libCZI
reads it (``CCZIParse::ReadFileHeader``, ``ParseSubBlockDirectory``).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, BinaryIO

from cci_uploader.formats import limits
from cci_uploader.formats.base import FormatError

if TYPE_CHECKING:
    from pathlib import Path

_SEGMENT_HEADER = 32  # id (16 bytes), allocated size, used size (int64 each)
_DIRECTORY_AT = _SEGMENT_HEADER + 52  # DirectoryPosition in the file header
_METADATA_AT = _SEGMENT_HEADER + 60  # MetadataPosition
_DIRECTORY_HEADER = 128  # EntryCount (int32) and 124 reserved bytes
_ENTRY = 32  # a DV entry without its dimension entries
_DIMENSION = 20
_MAX_DIMENSIONS = 32

# libCZI's PixelType: Gray8, Gray16, Gray32Float, Bgr24, Bgr48, Bgr96Float,
# Bgra32, Gray64ComplexFloat, Bgr192ComplexFloat, Gray32, Gray64.
PIXEL_TYPES = frozenset({0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13})

MAX_SUBBLOCKS = 2_000_000
"""Most subblock directory entries accepted (a large tiled scan has about 100,000)."""


def _damaged(path: Path, what: str) -> FormatError:
    return FormatError(f"{path.name} is damaged ({what}); copy it again from the microscope PC.")


def _segment(fh: BinaryIO, at: int, size: int, magic: bytes, path: Path) -> int:
    """Check the segment at ``at`` is a ``magic`` segment inside the file; return its used size."""
    if not 0 < at <= size - _SEGMENT_HEADER:
        raise _damaged(path, f"its {magic.decode()} segment lies outside the file")
    fh.seek(at)
    head = fh.read(_SEGMENT_HEADER)
    if head[:16].rstrip(b"\0") != magic:
        raise _damaged(path, f"its {magic.decode()} segment is missing")
    _allocated, used = struct.unpack_from("<qq", head, 16)
    if not 0 <= used <= size - at - _SEGMENT_HEADER:
        raise _damaged(path, f"its {magic.decode()} segment runs past the end of the file")
    return int(used)


def check_layout(path: Path) -> None:
    """Refuse a CZI whose directory or metadata segment does not fit the file.

    Raises
    ------
    FormatError
        If the directory's entries point outside the file or name unknown
        pixel types, or the metadata XML is too large or too deeply nested.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(_METADATA_AT + 8)
        if len(header) < _METADATA_AT + 8:
            raise _damaged(path, "its header is cut off")
        directory, metadata = (
            struct.unpack_from("<q", header, _DIRECTORY_AT)[0],
            struct.unpack_from("<q", header, _METADATA_AT)[0],
        )
        if metadata:
            _check_metadata(fh, metadata, size, path)
        if directory:
            _check_directory(fh, directory, size, path)


def _check_metadata(fh: BinaryIO, at: int, size: int, path: Path) -> None:
    used = _segment(fh, at, size, b"ZISRAWMETADATA", path)
    xml_size = struct.unpack("<i", fh.read(4))[0]
    if xml_size > limits.MAX_METADATA_BYTES:
        raise limits.too_large(path, "bytes of metadata XML", xml_size, limits.MAX_METADATA_BYTES)
    if not 0 <= xml_size <= used - 256:
        raise _damaged(path, "its metadata runs past its segment")
    fh.seek(at + _SEGMENT_HEADER + 256)
    limits.check_xml(fh.read(xml_size), path)


def _check_directory(fh: BinaryIO, at: int, size: int, path: Path) -> None:
    used = _segment(fh, at, size, b"ZISRAWDIRECTORY", path)
    fh.seek(at + _SEGMENT_HEADER)
    block = fh.read(used)
    if len(block) < _DIRECTORY_HEADER:
        raise _damaged(path, "its subblock directory is cut off")
    count = struct.unpack_from("<i", block, 0)[0]
    if not 0 <= count <= MAX_SUBBLOCKS:
        raise _damaged(path, f"its subblock directory claims {count:,} entries")
    offset = _DIRECTORY_HEADER
    for _ in range(count):
        if offset + _ENTRY > len(block):
            raise _damaged(path, "its subblock directory is cut off")
        schema = block[offset : offset + 2]
        pixel_type, position = struct.unpack_from("<iq", block, offset + 2)
        dimensions = struct.unpack_from("<i", block, offset + 28)[0]
        if schema != b"DV" or not 0 < dimensions <= _MAX_DIMENSIONS:
            raise _damaged(path, "its subblock directory holds an unreadable entry")
        if pixel_type not in PIXEL_TYPES:
            raise _damaged(path, f"a subblock has the unknown pixel type {pixel_type}")
        if not 0 < position <= size - _SEGMENT_HEADER:
            raise _damaged(path, "a subblock lies outside the file")
        offset += _ENTRY + dimensions * _DIMENSION
