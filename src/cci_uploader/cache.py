"""The conversion cache: one short-named folder per file being converted, owned by a lock.

A queue converts each file into its own folder under the cache and deletes
it when the file is done. A queue killed mid-way (``kill -9``, a power cut)
cannot delete its folder, so every queue sweeps the cache when it starts and
before each conversion: a folder whose lock no running process holds is
left over and goes. The operating system drops a dead process's locks, so
two windows or a window and a command line never delete each other's work.

The cache is also capped (:data:`DEFAULT_CAP_BYTES`): a conversion that
would not fit beside what running queues hold, or on the disk, is refused
up front with the cache folder's name, instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

DEFAULT_CAP_BYTES = 100 * 2**30
"""Most bytes the conversion cache may hold at once."""

_LOCK = ".owner"
# Leases, the folders of earlier versions (``entry-*``) and stray outputs.
_OURS = re.compile(r"^(e[0-9a-f]{8}|entry-.+|.*\.part|.*\.ome\.tiff?)$")
_PREFIX = "e"  # folder names stay short: "e" and 8 hex digits

# Errors that mean "the disk (or the user's quota) is full".
FULL_DISK = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


class CacheFull(OSError):
    """The cache folder has no room for a conversion."""


def _try_lock(handle: IO[bytes]) -> bool:
    """Take an exclusive, non-blocking lock on ``handle``; say whether it was free."""
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)  # msvcrt locks bytes from the current position: always byte 0
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class Lease:
    """A folder in the cache that this process owns until :meth:`release`."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        while True:
            folder = root / f"{_PREFIX}{secrets.token_hex(4)}"
            try:
                folder.mkdir()
                break
            except FileExistsError:
                continue
        self.path = folder
        self._handle: IO[bytes] | None = (folder / _LOCK).open("wb")
        if not _try_lock(self._handle):  # cannot happen for a fresh folder; be safe
            self._handle.close()
            raise OSError(f"cannot lock {folder}")

    def release(self) -> None:
        """Delete the folder and everything in it."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).lstat().st_size
    return total


def sweep(root: Path) -> int:
    """Delete what no running queue owns under ``root``; return the bytes freed."""
    if not root.is_dir():
        return 0
    freed = 0
    for child in list(root.iterdir()):
        if not _OURS.match(child.name):
            continue  # never delete what this app did not write
        try:
            if child.is_dir() and not child.is_symlink():
                lock = child / _LOCK
                try:
                    handle = lock.open("ab")
                except FileNotFoundError:
                    handle = None  # not a lease (or one not yet locked): judged by age below
                if handle is not None:
                    with handle:
                        if not _try_lock(handle):
                            continue  # a running queue owns it
                elif not _stale(child):
                    continue
                size = _size(child)
                shutil.rmtree(child)
            else:
                size = child.lstat().st_size
                child.unlink()
        except OSError as exc:
            log.warning("could not clean %s from the cache: %s", child, exc)
            continue
        freed += size
        log.info("removed %s (%d bytes) left in the cache by an interrupted run", child, size)
    return freed


def _stale(folder: Path, age_s: float = 60.0) -> bool:
    """A folder without a lock file is stale once it is older than a lease takes to lock."""
    import time

    try:
        return time.time() - folder.stat().st_mtime > age_s
    except OSError:
        return False


def used(root: Path) -> int:
    """Bytes the cache holds now (every queue's folders)."""
    return _size(root) if root.is_dir() else 0


def make_room(root: Path, needed: int, cap: int = DEFAULT_CAP_BYTES) -> None:
    """Sweep, then check that ``needed`` more bytes fit under the cap and on the disk.

    Raises
    ------
    CacheFull
        With a message naming the cache folder.
    """
    sweep(root)
    root.mkdir(parents=True, exist_ok=True)
    held = used(root)
    free = shutil.disk_usage(root).free
    if held + needed > cap:
        raise CacheFull(
            errno.ENOSPC,
            f"The cache folder {root} may hold {_gb(cap)}; converting this file needs about "
            f"{_gb(needed)} more beside the {_gb(held)} other uploads use now. Let them "
            "finish, then press Retry",
        )
    if needed > free:
        raise CacheFull(
            errno.ENOSPC,
            f"The cache folder {root} is on a disk with only {_gb(free)} free, and converting "
            f"this file needs about {_gb(needed)}. Free space on that disk, then press Retry",
        )


def full_message(root: Path, exc: OSError) -> str:
    """The row's message when writing into the cache failed with ``exc``."""
    if isinstance(exc, CacheFull):
        return f"{exc.strerror}."
    if exc.errno in FULL_DISK:
        return (
            f"The cache folder {root} is full (the disk has no space left). Free space on "
            "that disk, then press Retry."
        )
    return (
        f"Writing into the cache folder {root} failed ({exc.strerror or exc}); "
        "check that folder can be written to, then press Retry."
    )


def _gb(size: int) -> str:
    return f"{size / 2**30:.1f} GB" if size >= 2**28 else f"{size / 2**20:.0f} MB"
