"""The tag codes of a TIFF's first page, read from its header alone.

Telling a SmartSEM TIFF from a Fibics one (and both from any other TIFF)
takes one tag of the first page.  Opening the file with tifffile for that
parses every tag of the page, milliseconds per file; these few reads let
a sniff say "not this format" at once, and leave the yes to tifffile.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_MAX_TAGS = 4096  # tifffile refuses more tags on a page ("suspicious number of tags")


def first_page_tags(path: Path) -> frozenset[int] | None:
    """Return the tag codes in the first IFD of ``path``; ``None`` if that cannot be read.

    A code missing here is missing for tifffile too (it reads the same
    entries, and skips the ones it cannot decode).  Never raises.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
            order = {b"II": "<", b"MM": ">"}.get(head[:2])
            if order is None or len(head) < 8:
                return None
            (version,) = struct.unpack_from(order + "H", head, 2)
            if version == 42:  # classic TIFF: 2-byte count, 12-byte entries
                (offset,) = struct.unpack_from(order + "I", head, 4)
                count_format, entry = "H", 12
            elif version == 43 and len(head) == 16:  # BigTIFF: 8-byte count, 20-byte entries
                (offset,) = struct.unpack_from(order + "Q", head, 8)
                count_format, entry = "Q", 20
            else:
                return None
            fh.seek(offset)
            size = struct.calcsize(count_format)
            raw = fh.read(size)
            if len(raw) != size:
                return None
            (count,) = struct.unpack(order + count_format, raw)
            if count > _MAX_TAGS:
                return None
            data = fh.read(count * entry)
            if len(data) != count * entry:
                return None
    except (OSError, ValueError, OverflowError, struct.error):
        return None
    return frozenset(struct.unpack_from(order + "H", data, i * entry)[0] for i in range(count))
