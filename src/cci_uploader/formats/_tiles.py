"""Pixels read tile by tile, for the OME-TIFF writer and its pyramid levels.

The source array is often a read-only ``numpy.memmap`` of a file larger than
memory: rows are read a few MiB at a time and the pages just read are handed
back to the kernel, so memory stays bounded whatever the image size.
"""

from __future__ import annotations

import mmap
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from numpy.typing import NDArray

TILE = 512
"""Tile edge in pixels, for every level."""

PYRAMID_ABOVE = 2048
"""Images with a side longer than this get a SubIFD pyramid."""

# Source bytes read between two drops of memory-mapped pages.
_READ_CHUNK = 8 * 2**20


def levels(height: int, width: int) -> list[int]:
    """Return the subsampling factors of the pyramid levels below full size."""
    factors: list[int] = []
    if max(height, width) <= PYRAMID_ABOVE:
        return factors
    factor = 2
    while max(height, width) / factor > TILE / 2:
        factors.append(factor)
        factor *= 2
    return factors


def level_shape(planes: int, height: int, width: int, factor: int) -> tuple[int, int, int]:
    return planes, -(-height // factor), -(-width // factor)


def drop_pages(data: NDArray[Any], start: int, stop: int) -> None:
    """Tell the kernel we are done with bytes ``start:stop`` of a read-only memmap.

    Pages read through a memory map count towards the process's resident
    memory until the kernel reclaims them; dropping them keeps a scan over a
    file larger than RAM within a fixed budget. Only read-only maps are
    dropped, where this can never lose data.
    """
    mapped = getattr(data, "_mmap", None)
    if not (
        isinstance(data, np.memmap)
        and data.mode == "r"
        and isinstance(mapped, mmap.mmap)
        and hasattr(mapped, "madvise")
        and hasattr(mmap, "MADV_DONTNEED")
    ):
        return
    try:
        base = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
        first = (start - base) // mmap.PAGESIZE * mmap.PAGESIZE
        last = min(stop - base, len(mapped))
        if last > first >= 0:
            mapped.madvise(mmap.MADV_DONTNEED, first, last - first)
    except (ValueError, BufferError, OSError):
        return  # a closed or unusual map: memory is only less tightly bounded


def read_band(
    data: NDArray[Any], plane: int, top: int, bottom: int, factor: int, dtype: np.dtype[Any]
) -> NDArray[Any]:
    """Return rows ``top:bottom:factor`` of one plane, subsampled by ``factor``.

    The rows are read a few MiB at a time so that the kernel's read-ahead
    never maps much more than that before the pages are dropped again.
    """
    row_bytes = data.strides[1]
    chunk = max(1, _READ_CHUNK // max(row_bytes, 1) // factor) * factor
    band = np.empty((-(-(bottom - top) // factor), -(-data.shape[2] // factor)), dtype)
    contiguous = data.flags.c_contiguous
    for start in range(top, bottom, chunk):
        stop = min(start + chunk, bottom)
        first = (start - top) // factor
        rows = data[plane, start:stop:factor, ::factor]
        band[first : first + rows.shape[0]] = rows
        if contiguous:
            address = data.ctypes.data + plane * data.strides[0] + start * row_bytes
            drop_pages(data, address, address + (stop - start) * row_bytes)
    return band


def tiles(data: NDArray[Any], factor: int, dtype: np.dtype[Any]) -> Iterator[NDArray[Any]]:
    """Yield the tiles of every plane at one pyramid level, in TIFF order."""
    planes, height = data.shape[:2]
    band_rows = TILE * factor
    for plane in range(planes):
        for top in range(0, height, band_rows):
            band = read_band(data, plane, top, min(top + band_rows, height), factor, dtype)
            for left in range(0, band.shape[1], TILE):
                yield band[:, left : left + TILE]


def raw_bytes(shapes: Sequence[tuple[int, int, int]], dtypes: Sequence[np.dtype[Any]]) -> int:
    total = 0
    for (planes, height, width), dtype in zip(shapes, dtypes, strict=True):
        for factor in [1, *levels(height, width)]:
            level = level_shape(planes, height, width, factor)
            total += level[0] * level[1] * level[2] * dtype.itemsize
    return total
