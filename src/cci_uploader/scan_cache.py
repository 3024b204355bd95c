"""Metadata of scanned files, remembered by path, size and modification time.

Reading a microscope file's metadata takes milliseconds to tens of them;
scanning the same folder again (the window does it whenever files are
added or checked) should not.  The cache stands in for a format's
``read_metadata`` and nothing else: detection, the Project and Dataset, the
date taken from the modification time and every check before an upload
run as without it.

An entry counts only while the file, each of its companions and, for the
formats that find companions by name (EMI+SER, MRC+XML), the folder they
are in still have the size, modification time, change time and file id
they had when read; any difference, a file that cannot be read, or any
doubt about the cache file means reading again.  Files that could not be
read are not remembered.  The cache is a JSON file in the app's cache
folder, of plain values checked on the way in: no token, nothing
executable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import threading
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from cci_uploader import __version__
from cci_uploader.config import APP
from cci_uploader.formats.base import DATE_SOURCES, FileMetadata

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

MAX_ENTRIES = 50_000
"""Files remembered at most; the least recently read go first."""

MAX_CACHE_BYTES = 64 * 2**20
"""A bigger cache file is not read (and is replaced at the next save)."""

# A new app version, or new metadata fields, mean reading every file again.
_VERSION = f"{__version__}:" + ",".join(f.name for f in fields(FileMetadata))
# Formats whose companions are found by name beside the file: a file added
# to or removed from its folder may change them.
_PAIR_FORMATS = frozenset({"emi_ser", "mrc_xml"})

Stamp = list[int]  # size, st_mtime_ns, st_ctime_ns, st_ino


def cache_path() -> Path:
    """Where scanned metadata is kept (the app's cache folder)."""
    return Path(platformdirs.user_cache_dir(APP, appauthor=False)) / "scan-metadata.json"


def _stamp(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _optional(value: Any, convert: Callable[[Any], Any]) -> Any:
    return None if value is None else convert(value)


def _texts(value: Any) -> dict[str, str]:
    # Thousands of pairs per file (SmartSEM, Velox): checked without a call per item.
    if not isinstance(value, dict) or not all(
        type(k) is str and type(v) is str for k, v in value.items()
    ):
        raise TypeError("not a mapping of text")
    return dict(value)


def _encode(meta: FileMetadata) -> dict[str, Any]:
    return {
        "microscope": meta.microscope,
        "acquired": meta.acquired.isoformat() if meta.acquired else None,
        "pixel_size_m": list(meta.pixel_size_m) if meta.pixel_size_m else None,
        "companions": [str(p) for p in meta.companions],
        "images": meta.images,
        "skipped": list(meta.skipped),
        "extra": dict(meta.extra),
        "software": meta.software,
        "date_source": meta.date_source,
        "acquisition": dict(meta.acquisition),
    }


def _decode(data: Any) -> FileMetadata:
    """The metadata stored by :func:`_encode`; raises on anything of another shape."""
    if not isinstance(data, dict):
        raise TypeError("not a mapping")
    acquired = _optional(data["acquired"], lambda v: dt.datetime.fromisoformat(_text(v)))
    if acquired is not None and acquired.tzinfo is None:
        raise ValueError("a naive date")
    size = data["pixel_size_m"]
    if size is not None and (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in size)
    ):
        raise TypeError("not a pixel size")
    images = data["images"]
    if not isinstance(images, int) or isinstance(images, bool) or images < 0:
        raise TypeError("not a count")
    if data["date_source"] not in DATE_SOURCES:
        raise ValueError("unknown date source")
    return FileMetadata(
        microscope=_optional(data["microscope"], _text),
        acquired=acquired,
        pixel_size_m=(float(size[0]), float(size[1])) if size is not None else None,
        companions=tuple(Path(_text(p)) for p in data["companions"]),
        images=images,
        skipped=tuple(_text(s) for s in data["skipped"]),
        extra=_texts(data["extra"]),
        software=_optional(data["software"], _text),
        date_source=data["date_source"],
        acquisition=_texts(data["acquisition"]),
    )


class ScanCache:
    """Metadata read before, per file; :meth:`save` writes what was added.

    Parameters
    ----------
    path : Path, optional
        The cache file; the app's cache folder's ``scan-metadata.json`` by default.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self._lock = threading.Lock()
        self._entries: dict[str, Any] = {}
        self._dirty = False
        try:
            if self.path.stat().st_size > MAX_CACHE_BYTES:
                return
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return  # none yet, or damaged: everything is read again
        if isinstance(data, dict) and data.get("version") == _VERSION:
            entries = data.get("entries")
            if isinstance(entries, dict):
                self._entries = entries

    @staticmethod
    def _key(path: Path) -> str:
        # Not resolved: the stamps (file id included), not the name, prove it is the same file.
        return str(path.absolute())

    def get(self, path: Path, format_name: str) -> FileMetadata | None:
        """The metadata read before as ``format_name``, if nothing it came from has changed."""
        key = self._key(path)
        entry = self._unchanged(key, path, format_name)
        if entry is None:
            return None
        try:
            meta = _decode(entry["meta"])
        except (KeyError, TypeError, ValueError, OverflowError, RuntimeError):
            return None  # a damaged entry: read the file again
        with self._lock:  # recently used: kept longest
            self._entries[key] = self._entries.pop(key, entry)
        return meta

    def holds(self, path: Path, format_name: str) -> bool:
        """Whether :meth:`get` would find ``path`` unchanged (without decoding it)."""
        return self._unchanged(self._key(path), path, format_name) is not None

    def _unchanged(self, key: str, path: Path, format_name: str) -> dict[str, Any] | None:
        """The entry for ``path`` as ``format_name``, if it and what it came from are unchanged."""
        try:
            with self._lock:
                entry = self._entries.get(key)
            if not isinstance(entry, dict) or entry.get("format") != format_name:
                return None
            if entry["stamp"] != _stamp(path):
                return None
            for name, stamp in entry["depends"]:
                if stamp != _stamp(Path(_text(name))):
                    return None
        except (OSError, KeyError, TypeError, ValueError, OverflowError, RuntimeError):
            return None  # a damaged entry: read the file again
        return entry

    def put(self, path: Path, format_name: str, meta: FileMetadata, before: Stamp | None) -> None:
        """Remember ``meta``, read from ``path`` as ``format_name``.

        ``before`` is the file's stamp taken before reading it: a file that
        changed while it was read is not remembered.
        """
        stamp = _stamp(path)
        if stamp is None or stamp != before:
            return
        depends = [path.parent] if format_name in _PAIR_FORMATS else []
        stamps = [(str(p), _stamp(p)) for p in (*meta.companions, *depends)]
        if any(s is None for _, s in stamps):
            return
        try:
            encoded = _encode(meta)
            # Kept only if it comes back as it was read (and can be saved at all).
            if _decode(json.loads(json.dumps(encoded))) != meta:
                return
        except (TypeError, ValueError, OverflowError, RecursionError):
            return
        entry = {"format": format_name, "stamp": stamp, "depends": stamps, "meta": encoded}
        with self._lock:
            key = self._key(path)
            self._entries.pop(key, None)
            self._entries[key] = entry
            while len(self._entries) > MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]
            self._dirty = True

    @staticmethod
    def stamp(path: Path) -> Stamp | None:
        """The file's size, times and id, as :meth:`put` compares them; ``None`` if unreadable."""
        return _stamp(path)

    def save(self) -> None:
        """Write the cache, atomically; a failure only costs reading again next time."""
        with self._lock:
            if not self._dirty:
                return
            try:
                text = json.dumps({"version": _VERSION, "entries": self._entries})
            except (TypeError, ValueError, RecursionError):  # a damaged entry loaded: start over
                log.warning("the scan cache could not be written; it starts empty", exc_info=True)
                self._entries = {}
                return
            self._dirty = False
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            log.warning("could not save the scan cache in %s", self.path, exc_info=True)
            with contextlib.suppress(OSError):
                tmp.unlink()
