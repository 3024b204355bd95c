"""SHA-1, the checksum OMERO's managed repository stores (hasher ``SHA1-160``)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CHUNK = 8 * 1024 * 1024


def file_sha1(path: Path) -> str:
    """Return the hex SHA-1 of a file, reading it once, read-only."""
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()
