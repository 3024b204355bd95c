"""Plan: where each scanned file goes, with which pairs, and why.

The second step of the one-way flow scan -> plan -> convert -> import ->
annotate -> record.  :func:`plan` turns scan entries into frozen
:class:`PlannedFile` values: the target Project and Dataset, the cleaned
key-value pairs, and *why* the microscope and the date were chosen, as enums.
The words the user reads about those choices are made here, in one place,
from the enums.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cci_uploader.config import UNKNOWN_MICROSCOPE, Config
from cci_uploader.formats.base import ACQUISITION, CREATION, FILE_MODIFIED
from cci_uploader.names import clean_name

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from pathlib import Path

    from cci_uploader.scan import ScanEntry

Pairs = tuple[tuple[str, str], ...]


class MicroscopeSource(StrEnum):
    """Where a file's Project (its microscope) comes from."""

    STORED = "stored"  # the name the file stores
    MAPPED = "mapped"  # the file's name or ID, mapped by the facility config
    PC_DEFAULT = "pc_default"  # the file names none: this PC's microscope
    UNKNOWN = "unknown"  # the file names none and this PC has no default


class DateSource(StrEnum):
    """Where a file's Dataset (its local date) comes from."""

    ACQUISITION = ACQUISITION
    CREATION = CREATION
    FILE_MODIFIED = FILE_MODIFIED
    UNKNOWN = "unknown"  # no metadata was read


def map_microscope(stored: str | None, config: Config) -> tuple[str, MicroscopeSource]:
    """Return the OMERO Project name for a stored instrument name, and where it came from."""
    if stored:
        if stored in config.microscope_map:
            return config.microscope_map[stored], MicroscopeSource.MAPPED
        return stored, MicroscopeSource.STORED
    if config.default_microscope:
        return config.default_microscope, MicroscopeSource.PC_DEFAULT
    return UNKNOWN_MICROSCOPE, MicroscopeSource.UNKNOWN


def microscope_reason(source: MicroscopeSource, stored: str | None) -> str:
    """The words for how the microscope was chosen (``stored``: the file's own name)."""
    if source is MicroscopeSource.MAPPED:
        return f"mapped from {stored!r}"
    if source is MicroscopeSource.STORED:
        return "as stored in the file"
    if source is MicroscopeSource.PC_DEFAULT:
        return "the file names no microscope: this PC's default"
    return "the file names no microscope and this PC has no default"


# What the user is told about a date that is not the file's own acquisition time.
DATE_NOTES = {
    DateSource.FILE_MODIFIED: "date taken from the file's modification time",
    DateSource.CREATION: "date taken from the document's creation time",
}


def batch_pairs(scan: ScanEntry, pairs: Sequence[tuple[str, str]]) -> tuple[Pairs, tuple[str, ...]]:
    """The pairs for one file, each key and value cleaned, and notes on what was cleaned.

    The batch's pairs, plus ``Folder`` when the file came from a chosen folder.
    """
    raw = list(pairs)
    if scan.folder is not None:
        raw.append(("Folder", scan.folder.name))
    result: list[tuple[str, str]] = []
    notes: list[str] = []
    for key, value in raw:
        key, key_note = clean_name(key, f"the key {key[:40]!r} was")
        value, value_note = clean_name(value, f"the value of {key[:40]!r} was")
        notes.extend(n for n in (key_note, value_note) if n)
        if key and value:
            result.append((key, value))
    return tuple(dict.fromkeys(result)), tuple(dict.fromkeys(notes))


@dataclass(frozen=True)
class PlannedFile:
    """A scanned file, where it goes in OMERO, and with which pairs."""

    scan: ScanEntry
    microscope: str | None = None  # the Project; None when nothing could be read
    microscope_source: MicroscopeSource | None = None
    stored_microscope: str | None = None  # the file's own name, cleaned
    pairs: Pairs = ()
    name_notes: tuple[str, ...] = ()  # how names taken from the file were cleaned
    pair_notes: tuple[str, ...] = ()  # how the batch's pairs were cleaned

    @property
    def path(self) -> Path:
        """The scanned file."""
        return self.scan.path

    @property
    def ok(self) -> bool:
        """Whether the file can be uploaded."""
        return self.scan.ok

    @property
    def refused(self) -> bool:
        """Unsupported or unreadable: retrying cannot help."""
        return not self.scan.ok

    @property
    def project(self) -> str | None:
        """The OMERO Project: the (mapped) microscope name."""
        return self.microscope

    @property
    def date(self) -> dt.date | None:
        """The acquisition date in this computer's time zone."""
        return self.scan.date

    @property
    def dataset(self) -> str | None:
        """The OMERO Dataset: the local acquisition date, ``YYYY-MM-DD``."""
        return self.date.isoformat() if self.date else None

    @property
    def date_source(self) -> DateSource:
        """Where the date comes from."""
        return DateSource(self.scan.date_source) if self.scan.date_source else DateSource.UNKNOWN

    @property
    def microscope_note(self) -> str:
        """How the microscope was chosen, and how its name was cleaned; empty if unknown."""
        if self.microscope_source is None:
            return ""
        return "; ".join(
            [microscope_reason(self.microscope_source, self.stored_microscope), *self.name_notes]
        )

    @property
    def date_note(self) -> str:
        """Says where the date comes from when it is not the acquisition time; else empty."""
        return DATE_NOTES.get(self.date_source, "")

    @property
    def notes(self) -> tuple[str, ...]:
        """Every name cleaned on the way to OMERO (the file's, then the pairs')."""
        return (*self.name_notes, *self.pair_notes)

    @property
    def target(self) -> str:
        """``Project / Dataset``."""
        return f"{self.project} / {self.dataset}"

    def to_json(self) -> dict[str, Any]:
        """The ``scan --json`` record."""
        scan = self.scan
        meta = scan.metadata
        pixel = meta.pixel_size_m if meta else None
        return {
            "path": str(scan.path),
            "format": scan.format,
            "companions": [str(p) for p in scan.companions],
            "microscope": self.microscope,
            "microscope_raw": meta.microscope if meta else None,
            "microscope_note": self.microscope_note or None,
            "acquired": meta.acquired.isoformat() if meta and meta.acquired else None,
            "date": self.dataset,
            "date_source": scan.date_source,
            "pixel_size_um": [pixel[0] * 1e6, pixel[1] * 1e6] if pixel else None,
            "images": meta.images if meta else 0,
            "skipped": list(meta.skipped) if meta else [],
            "project": self.project,
            "dataset": self.dataset,
            "reason": scan.reason,
            "name_notes": list(self.name_notes),
        }


def with_pairs(file: PlannedFile, pairs: Sequence[tuple[str, str]]) -> PlannedFile:
    """The same plan with the batch's ``pairs`` (cleaned; ``Folder`` added)."""
    clean, notes = batch_pairs(file.scan, pairs)
    return dataclasses.replace(file, pairs=clean, pair_notes=notes)


def plan_file(
    scan: ScanEntry, config: Config, pairs: Sequence[tuple[str, str]] = ()
) -> PlannedFile:
    """Plan one file: its Project from the (mapped, cleaned) microscope, and its pairs."""
    if scan.metadata is None:
        return with_pairs(PlannedFile(scan), pairs)
    notes = []
    stored = scan.metadata.microscope
    if stored is not None:
        stored, note = clean_name(stored, "the microscope name in the file was")
        notes.append(note)
    microscope, source = map_microscope(stored or None, config)
    microscope, note = clean_name(microscope, "the Project name was")
    notes.append(note)
    planned = PlannedFile(
        scan,
        microscope or UNKNOWN_MICROSCOPE,
        source,
        stored or None,
        name_notes=tuple(n for n in notes if n),
    )
    return with_pairs(planned, pairs)


def plan(
    scans: Sequence[ScanEntry], config: Config, pairs: Sequence[tuple[str, str]] = ()
) -> list[PlannedFile]:
    """Plan every scanned file, in order; see :func:`plan_file`."""
    return [plan_file(scan, config, pairs) for scan in scans]


def remap(file: PlannedFile, config: Config) -> PlannedFile:
    """Plan again a file that names no microscope (this PC's may have changed).

    Its pairs stay; a file that names its microscope, or could not be read,
    is returned as it is.
    """
    meta = file.scan.metadata
    if not file.ok or meta is None or meta.microscope:
        return file
    fresh = plan_file(file.scan, config)
    return dataclasses.replace(fresh, pairs=file.pairs, pair_notes=file.pair_notes)
