"""TIFF LZW strips decoded without ``imagecodecs``.

tifffile needs the ``imagecodecs`` package for LZW (compression 5), which
ZEISS Atlas uses for its exports; that package carries some 90 MB of codecs
the installer does not need. TIFF LZW is small: the TIFF 6.0 specification,
section 13 ("LZW Compression"), describes it fully, and this module follows
it: codes of 9 to 12 bits, most significant bit first, ``ClearCode`` 256,
``EndOfInformation`` 257, the code width growing one code early (at 511, 1023
and 2047), and the horizontal predictor of section 14 (``Predictor`` = 2).

When ``imagecodecs`` is installed, tifffile's own decoder is used instead.
Without it, :func:`read_page` lets Pillow (already installed with omero-py)
decode the page with libtiff, about fifty times faster than the Python loop
here, which it falls back to for images past Pillow's decompression-bomb
limit. ``tests/formats/test_fibics.py`` checks the two agree.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

import numpy as np
import tifffile

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

_CLEAR, _END, _FIRST = 256, 257, 258
_MAX_CODES = 4096


class LzwError(ValueError):
    """A strip is not valid TIFF LZW."""


def decode(data: bytes, limit: int) -> bytes:
    """Decode one TIFF LZW strip, stopping at ``limit`` bytes of output."""
    if data[:2] == b"\x00\x01":
        raise LzwError("old-style (pre-TIFF 6.0) LZW is not supported")
    padded = data + b"\0\0\0"
    total_bits = len(data) * 8
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    append = table.append
    out = bytearray()
    width, position, mask = 9, 0, 511
    grow_at = 511  # the table size at which codes become one bit wider (one early)
    previous = b""
    while position + width <= total_bits:
        index = position >> 3
        code = (
            ((padded[index] << 16) | (padded[index + 1] << 8) | padded[index + 2])
            >> (24 - (position & 7) - width)
        ) & mask
        position += width
        if code == _CLEAR:
            del table[_FIRST:]
            width, mask, grow_at, previous = 9, 511, 511, b""
            continue
        if code == _END:
            break
        size = len(table)
        if not previous:
            if code >= _CLEAR:
                raise LzwError(f"code {code} right after a clear code")
            entry = table[code]
        else:
            if code < size:
                entry = table[code]
                new = previous + entry[:1]
            elif code == size:
                entry = new = previous + previous[:1]
            else:
                raise LzwError(f"code {code} is not in the table yet")
            if size < _MAX_CODES:
                append(new)
                size += 1
            if size >= grow_at and width < 12:
                width += 1
                mask = (mask << 1) | 1
                grow_at = mask
            if len(out) >= limit:
                break
        out += entry
        previous = entry
    return bytes(out[:limit])


def needs_own_decoder(page: tifffile.TiffPage) -> bool:
    """Say whether tifffile would need ``imagecodecs`` to read this LZW page."""
    return (
        page.compression == tifffile.COMPRESSION.LZW
        and importlib.util.find_spec("imagecodecs") is None
    )


def read_strips(fh: Any, page: tifffile.TiffPage) -> NDArray[Any]:
    """Return a stripped, single-sample LZW page's pixels as (Y, X)."""
    if page.is_tiled or page.samplesperpixel != 1 or page.bitspersample not in (8, 16, 32):
        raise LzwError("only stripped greyscale LZW images of 8, 16 or 32 bits are supported")
    height, width = page.imagelength, page.imagewidth
    dtype = np.dtype(page.dtype).newbyteorder(page.parent.byteorder)
    row_bytes = width * dtype.itemsize
    rows_per_strip = min(page.rowsperstrip or height, height)
    out = np.empty((height, width), dtype)
    for number, (offset, count) in enumerate(
        zip(page.dataoffsets, page.databytecounts, strict=True)
    ):
        top = number * rows_per_strip
        if top >= height:
            break
        rows = min(rows_per_strip, height - top)
        fh.seek(offset)
        raw = decode(fh.read(count), rows * row_bytes)
        if len(raw) != rows * row_bytes:
            raise LzwError(f"strip {number} holds {len(raw)} bytes, not {rows * row_bytes}")
        out[top : top + rows] = np.frombuffer(raw, dtype).reshape(rows, width)
    if page.predictor == tifffile.PREDICTOR.HORIZONTAL:
        if dtype.kind not in "iu":
            raise LzwError("the horizontal predictor applies to integer pixels only")
        np.cumsum(out, axis=1, dtype=out.dtype, out=out)
    elif page.predictor not in (None, tifffile.PREDICTOR.NONE, 1):
        raise LzwError(f"predictor {page.predictor} is not supported")
    return out.astype(dtype.newbyteorder("="), copy=False)


def read_page(path: Path, fh: Any, page: tifffile.TiffPage) -> NDArray[Any]:
    """Return an LZW page's pixels as (Y, X): with libtiff through Pillow, else :func:`decode`."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.seek(page.index)
            if image.size == (page.imagewidth, page.imagelength) and image.mode in ("L", "I;16"):
                data: NDArray[Any] = np.asarray(image)
                if data.dtype == np.dtype(page.dtype).newbyteorder("="):
                    return data
    except Image.DecompressionBombError:
        pass  # too large for Pillow's default limit: decode it here
    return read_strips(fh, page)
