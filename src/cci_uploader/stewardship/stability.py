"""A file that changes while it is checked is kept: size and time, before and after.

Verification re-hashes a file, which can take minutes for a large one; a
writer may append to it meanwhile.  The size and modification time are taken
before the hash, after it, and once more right before the file is removed; any
difference keeps the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

Snapshot = tuple[tuple[Path, int, int], ...]  # (path, size, modification time in ns)


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """Size and modification time of each path; -1, -1 for one that cannot be read."""
    taken = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            taken.append((path, -1, -1))
        else:
            taken.append((path, info.st_size, info.st_mtime_ns))
    return tuple(taken)


def changed_since(before: Snapshot) -> list[Path]:
    """The paths whose size or modification time is no longer what ``before`` says."""
    now = snapshot(p for p, _, _ in before)
    return [old[0] for old, new in zip(before, now, strict=True) if old != new]
