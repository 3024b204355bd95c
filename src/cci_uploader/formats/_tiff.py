"""What the TIFF-based formats (SmartSEM, Fibics) share: reading errors and page checks.

``again`` in each function is the format's advice for a bad file, e.g.
``"export it again from Atlas"``; it ends the user's message.
"""

from __future__ import annotations

import struct
from contextlib import contextmanager
from typing import TYPE_CHECKING

import tifffile

from cci_uploader.formats import _tiff_lzw
from cci_uploader.formats.base import FormatError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TIFF_ERRORS = (
    tifffile.TiffFileError,
    _tiff_lzw.LzwError,
    ValueError,
    struct.error,
    IndexError,
    KeyError,
    OverflowError,
    TypeError,
    EOFError,
    MemoryError,
)
"""What tifffile (and our LZW decoder) raise for TIFFs damaged in different ways."""


@contextmanager
def reading(path: Path, again: str) -> Iterator[None]:
    """Turn what reading a damaged or locked TIFF raises into one :class:`FormatError`."""
    try:
        yield
    except OSError as exc:
        raise FormatError(
            f"{path.name} cannot be opened ({exc.strerror or exc}); check it is not open elsewhere."
        ) from exc
    except TIFF_ERRORS as exc:
        raise FormatError(
            f"{path.name} is damaged or incomplete and cannot be read ({exc}); {again}."
        ) from exc


def incomplete(path: Path, again: str) -> FormatError:
    """The error for a TIFF whose pixels are cut off."""
    return FormatError(f"{path.name} is incomplete (its pixels are cut off); {again}.")


def pages(
    tif: tifffile.TiffFile, path: Path, again: str, *, reduced: bool = True
) -> Iterator[tifffile.TiffPage]:
    """Yield the file's pages, each checked to have all of its pixels inside the file.

    ``reduced=False`` leaves out reduced-resolution pages (overviews), unchecked.
    """
    size = path.stat().st_size
    for page in tif.pages:
        if not isinstance(page, tifffile.TiffPage):
            raise FormatError(f"{path.name} has an unreadable page; {again}.")
        if page.is_reduced and not reduced:
            continue
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False)]
        if not ends or max(ends) > size or 0 in page.shape:
            raise incomplete(path, again)
        yield page


def page_name(path: Path, number: int, count: int) -> str:
    """The name of page ``number`` (from 1) of ``count``: the stem, numbered if many."""
    return path.stem if count == 1 else f"{path.stem} (page {number})"
