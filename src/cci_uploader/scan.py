"""Scan: what each chosen file is and what belongs with it.

This is the first step of the one-way flow scan -> plan -> convert -> import
-> annotate -> record.  It reads metadata only; where a file lands is the
plan's (:mod:`cci_uploader.plan`).  Nothing is converted or uploaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cci_uploader import formats
from cci_uploader.formats.base import (
    FILE_MODIFIED,
    Companions,
    FileMetadata,
    FormatDescriptor,
    FormatError,
)
from cci_uploader.isolation import unexpected
from cci_uploader.scan_cache import ScanCache
from cci_uploader.scan_pool import ReadAhead

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator, Sequence

    from cci_uploader.config import Config

UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class ScanEntry:
    """One file (with its companions) and what it holds."""

    path: Path
    format: str
    reason: str | None = None
    metadata: FileMetadata | None = None
    folder: Path | None = None  # the folder the user chose, when found by walking it

    @property
    def ok(self) -> bool:
        """Whether the file can be uploaded."""
        return self.reason is None

    @property
    def companions(self) -> tuple[Path, ...]:
        """Companion files that go with this one."""
        return self.metadata.companions if self.metadata else ()

    @property
    def date(self) -> dt.date | None:
        """Acquisition date in this computer's time zone."""
        return self.metadata.local_date() if self.metadata else None

    @property
    def date_source(self) -> str | None:
        """``acquisition``, ``creation`` or ``file_modified``; None without metadata."""
        return self.metadata.date_source if self.metadata else None

    @property
    def size(self) -> int:
        """Bytes of the file and its companions."""
        paths = (self.path, *self.companions)
        return sum(p.stat().st_size for p in paths if p.exists())


def _is_regular(path: Path) -> bool:
    """Say whether ``path`` is a regular file (following links); never raise.

    A FIFO, socket or device named ``*.czi`` would block the first read
    forever, so anything else is left out before any reader opens it.
    """
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if _is_regular(path):
                yield path


def _data_companion(path: Path) -> tuple[FormatDescriptor, Companions, str] | None:
    """The pair a companion named like ``path`` belongs to, if it is data of its own (a .ser).

    A lone EPU ``.xml`` is most likely not microscopy data: ``None``.
    """
    owner = formats.companion_owner(path)
    if owner is None or owner.companions is None or owner.companions.alone is None:
        return None
    return owner, owner.companions, owner.companions.alone


def _orphan_reason(path: Path) -> str | None:
    """Say why a lone companion file (a .ser whose .emi is missing) cannot go alone."""
    pair = _data_companion(path)
    if pair is None:
        return None
    _, companions, alone = pair
    main = companions.main_of(path)
    if main is not None and main.exists():
        return None
    return alone.format(name=path.name)


def scan_file(
    path: Path,
    config: Config,
    folder: Path | None = None,
    module: FormatDescriptor | None = None,
    cache: ScanCache | None = None,
    ahead: ReadAhead | None = None,
) -> ScanEntry:
    """Describe one file; a bad or unsupported file gets a reason, never an exception.

    ``module`` is the file's format when the caller has already detected it;
    ``cache`` holds metadata read before, used while the file is unchanged;
    ``ahead`` reads files in worker processes for a big scan.
    """
    try:
        return _scan_file(path, config, folder, module, cache, ahead)
    except Exception as exc:  # the per-file boundary: one file, one failure
        fmt = module.name if module is not None else UNSUPPORTED
        return ScanEntry(path, fmt, unexpected(path, "read", exc), folder=folder)


def _scan_file(
    path: Path,
    config: Config,
    folder: Path | None,
    module: FormatDescriptor | None,
    cache: ScanCache | None,
    ahead: ReadAhead | None = None,
) -> ScanEntry:
    if path.exists() and not _is_regular(path):
        return ScanEntry(
            path,
            UNSUPPORTED,
            f"{path.name} is not a regular file (a folder, device or pipe), so it is not uploaded.",
            folder=folder,
        )
    module = module or (formats.detect(path) if _is_regular(path) else None)
    if module is None:
        why = _orphan_reason(path) or (
            f"{path.name} is not a supported microscope file ({formats.supported_labels()}), "
            "so it is not uploaded."
        )
        pair = _data_companion(path)
        fmt = pair[0].name if pair is not None else UNSUPPORTED
        return ScanEntry(path, fmt, why, folder=folder)
    try:
        meta = _read_metadata(module, path, cache, ahead)
    except FormatError as exc:
        return ScanEntry(path, module.name, str(exc), folder=folder)
    except OSError as exc:
        return ScanEntry(
            path, module.name, f"{path.name} cannot be read: {exc.strerror}.", folder=folder
        )
    reason: str | None = None
    if meta.acquired is None:
        try:
            meta = _dated_by_mtime(meta, path)
        except (OSError, OverflowError, ValueError) as exc:
            return ScanEntry(
                path,
                module.name,
                f"{path.name} records no acquisition date and its modification time "
                f"cannot be read ({exc}), so its Dataset cannot be chosen.",
                folder=folder,
            )
    if meta.images == 0:
        reason = f"{path.name} contains no images to upload ({'; '.join(meta.skipped)})."
    return ScanEntry(path, module.name, reason, meta, folder)


def _read_metadata(
    module: FormatDescriptor, path: Path, cache: ScanCache | None, ahead: ReadAhead | None
) -> FileMetadata:
    """The format's metadata of ``path``, from ``cache`` while the file is unchanged."""
    meta = cache.get(path, module.name) if cache is not None else None
    if meta is None:
        if ahead is not None:
            meta, before = ahead.read(path, module)
        else:
            before = ScanCache.stamp(path)
            meta = module.read_metadata(path)
        if cache is not None:
            cache.put(path, module.name, meta, before)
    return meta


def _dated_by_mtime(meta: FileMetadata, path: Path) -> FileMetadata:
    """The file stores no usable date: use its modification time, in this PC's time zone."""
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return dataclasses.replace(meta, acquired=modified, date_source=FILE_MODIFIED)


@dataclass(frozen=True)
class Ignored:
    """A file in a chosen folder that is not microscopy data, and why it is left out."""

    path: Path
    reason: str


def ignored_reason(path: Path) -> str:
    """Say in a few words what kind of file is ignored (``.map``, ``.xml without an image``)."""
    suffix = path.suffix.lower()
    if not suffix:
        return "file without an extension"
    if suffix == ".xml":
        return ".xml without an image"
    if formats.claims_suffix(path):
        return f"{suffix} that is not a microscope file"
    return suffix


def ignored_summary(ignored: Sequence[Ignored]) -> str:
    """``5 ignored (not microscopy data: 2 .map, 1 .xml without an image, …)``."""
    counts = Counter(i.reason for i in ignored)
    kinds = ", ".join(f"{n} {reason}" for reason, n in counts.most_common())
    return f"{len(ignored)} ignored (not microscopy data: {kinds})"


@dataclass(frozen=True)
class ScanResult:
    """The entries a scan found, and the files in chosen folders it left out."""

    entries: list[ScanEntry]
    ignored: list[Ignored]

    def summary(self) -> str:
        """``32 files added; 5 ignored (not microscopy data: 2 .map, 1 .xml without an image)``."""
        added = f"{len(self.entries)} file{'s' if len(self.entries) != 1 else ''} added"
        return f"{added}; {ignored_summary(self.ignored)}" if self.ignored else added

    def summary_json(self) -> dict[str, Any]:
        """The ``scan --json`` summary line."""
        counts = Counter(i.reason for i in self.ignored)
        return {
            "summary": self.summary(),
            "added": len(self.entries),
            "ignored": len(self.ignored),
            "ignored_reasons": dict(counts.most_common()),
            "ignored_files": [{"path": str(i.path), "reason": i.reason} for i in self.ignored],
        }


def scan_paths(paths: Iterable[Path], config: Config) -> list[ScanEntry]:
    """Scan files and folders (recursively), pairing companions; see :func:`scan`."""
    return scan(paths, config).entries


def scan(paths: Iterable[Path], config: Config, *, workers: int | None = None) -> ScanResult:
    """Scan files and folders (recursively), pairing companions.

    In a folder, files that are not microscopy data are left out, and listed
    in the result's ``ignored`` with why; a single file the user picked is
    always reported as an entry, with a reason if refused.
    """
    [result] = scan_batches(paths, config, batch=None, workers=workers)
    return result


def scan_batches(
    paths: Iterable[Path], config: Config, *, batch: int | None = 50, workers: int | None = None
) -> Generator[ScanResult, None, None]:
    """Scan like :func:`scan`, yielding the entries in batches as they are read.

    The window shows rows as a big folder is read.  An entry that may still
    turn out to be a companion of a later file (a ``.ser`` or ``.xml`` read
    before its main file) is held back to the last batch, which also carries
    the ignored files; ``batch=None`` yields everything once, in scan order.
    ``workers`` caps the worker processes reading a big folder's files
    (:mod:`cci_uploader.scan_pool`; 0: none, the default: a core each).
    """
    ready: list[tuple[int, ScanEntry]] = []
    held: list[tuple[int, ScanEntry]] = []  # companion-like: kept until the pairs are known
    ignored: list[Ignored] = []
    seen: set[Path] = set()
    claimed: set[Path] = set()  # companions of entries found so far
    order = 0
    cache = ScanCache()  # metadata of files unchanged since they were last read
    found = _candidates(paths)
    ahead = ReadAhead(_to_read(found, cache), workers)
    try:
        for path, folder, module, sniffed in found:
            resolved = path.resolve()
            if resolved in seen:
                continue
            entry = _scan_one(path, config, folder, ignored, cache, (module, sniffed), ahead)
            if entry is None:
                continue
            seen.add(resolved)
            seen.update(c.resolve() for c in entry.companions)
            claimed.update(c.resolve() for c in entry.companions)
            order += 1
            companion_like = formats.companion_owner(path) is not None
            (held if companion_like else ready).append((order, entry))
            if batch is not None and len(ready) >= batch:
                yield ScanResult([e for _, e in ready], [])
                ready = []
    finally:
        ahead.close()
    cache.save()
    # A companion met before its main file is dropped once the pair is known.
    last = sorted(
        [*ready, *((n, e) for n, e in held if e.path.resolve() not in claimed)],
        key=lambda item: item[0],
    )
    yield ScanResult([e for _, e in last], [i for i in ignored if i.path.resolve() not in claimed])


# A path found, the folder it was found in (None: picked itself), its format (None
# when it has none), and whether sniffing it worked (if not, the scan says why).
type _Found = tuple[Path, Path | None, FormatDescriptor | None, bool]


def _candidates(paths: Iterable[Path]) -> list[_Found]:
    """Every file the scan looks at, in its order, each with its format."""
    found: list[_Found] = []
    for given in paths:
        given = Path(given)
        folder = given if given.is_dir() else None
        for path in _walk(given) if folder is not None else [given]:
            try:
                module = formats.detect(path) if _is_regular(path) else None
            except Exception:  # _scan_one sniffs it again, and its row says why
                found.append((path, folder, None, False))
            else:
                found.append((path, folder, module, True))
    return found


def _to_read(found: Sequence[_Found], cache: ScanCache) -> list[tuple[Path, FormatDescriptor]]:
    """The files whose metadata the cache does not hold: what worker processes may read."""
    return [(p, m) for p, _, m, _ in found if m is not None and not cache.holds(p, m.name)]


def _scan_one(
    path: Path,
    config: Config,
    folder: Path | None,
    ignored: list[Ignored],
    cache: ScanCache | None = None,
    detected: tuple[FormatDescriptor | None, bool] = (None, False),
    ahead: ReadAhead | None = None,
) -> ScanEntry | None:
    """One file's entry, or ``None`` when a folder's file is not ours (added to ``ignored``).

    ``detected`` is the format found when the files were listed, and whether
    that sniff worked; if it did not, the file is sniffed again here, so what
    it raised is reported.
    """
    module, sniffed = detected
    try:
        if not sniffed:
            module = formats.detect(path) if _is_regular(path) else None
    except Exception as exc:  # a sniff that raised: this file's row says so
        return ScanEntry(path, UNSUPPORTED, unexpected(path, "read", exc), folder=folder)
    if folder is not None and module is None and not _orphan_reason(path):
        ignored.append(Ignored(path, ignored_reason(path)))  # not ours
        return None
    entry = scan_file(path, config, folder, module, cache, ahead)
    if folder is None and _companions_of(entry.format) is not None:
        entry = _redirect_companion(entry, config, cache) or entry
    return entry


def _redirect_companion(
    entry: ScanEntry, config: Config, cache: ScanCache | None = None
) -> ScanEntry | None:
    """A picked .ser or .xml stands for its main file, when that exists."""
    companions = _companions_of(entry.format)
    main = companions.main_of(entry.path) if companions is not None else None
    if main is None or not main.exists():
        return None
    return scan_file(main, config, entry.folder, cache=cache)


def _companions_of(format_name: str) -> Companions | None:
    """The companion files of the format named ``format_name``, if it has any."""
    owner = next((f for f in formats.all_formats() if f.name == format_name), None)
    return owner.companions if owner is not None else None
