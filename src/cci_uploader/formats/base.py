"""The shape every format plugin shares, and the metadata it returns.

A format module (one per file kind) ends with ``FORMAT``, its
:class:`FormatDescriptor`: name, label, extensions, ``is_supported``,
``read_metadata``, ``convert`` and companions. The registry
(``formats/registry.py``) collects them; everything else reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Where an acquisition date comes from (``FileMetadata.date_source``).
ACQUISITION, CREATION, FILE_MODIFIED = "acquisition", "creation", "file_modified"
DATE_SOURCES = (ACQUISITION, CREATION, FILE_MODIFIED)


class FormatError(Exception):
    """A file cannot be read as its format claims; the message says why in one line."""


@dataclass(frozen=True)
class FileMetadata:
    """What the uploader needs to know about one microscope file.

    Attributes
    ----------
    microscope : str or None
        The instrument name as stored in the file, before any mapping.
    acquired : datetime or None
        Acquisition date and time, time-zone aware.
    pixel_size_m : tuple of float or None
        Physical pixel size (x, y) in metres.
    companions : tuple of Path
        Other files that belong to this one (``.ser`` for ``.emi``, ...).
    images : int
        How many OME Images an upload of this file creates.
    skipped : tuple of str
        Parts of the file that are not uploaded, with why (e.g. spectra).
    extra : dict
        Further original metadata (key to text), kept in the OME-TIFF.
    software : str or None
        The acquisition or export software and its version, where stored.
    date_source : str
        Where ``acquired`` comes from: ``acquisition`` (the file's acquisition
        time), ``creation`` (the document's creation time) or ``file_modified``
        (the file's modification time, when the file stores no usable date).
    acquisition : dict
        What was acquired, for the acquisition-metadata annotation (objective,
        detector, high tension, ...), key to text.
    """

    microscope: str | None
    acquired: dt.datetime | None
    pixel_size_m: tuple[float, float] | None = None
    companions: tuple[Path, ...] = ()
    images: int = 1
    skipped: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    software: str | None = None
    date_source: str = ACQUISITION
    acquisition: dict[str, str] = field(default_factory=dict)

    def local_date(self) -> dt.date | None:
        """Return the acquisition date in this computer's time zone."""
        if self.acquired is None:
            return None
        return self.acquired.astimezone().date()


ConvertFn = Callable[[Path, Path], list[Path]]


@dataclass(frozen=True)
class Companions:
    """Files that travel with a format's main file and are no format of their own.

    Attributes
    ----------
    suffixes : tuple of str
        Lower-case suffixes of the companion files (``(".ser",)``).
    main_of : callable
        ``main_of(companion)`` names the main file a companion belongs to, if
        one is beside it; never raises.
    alone : str or None
        What a companion is told when its main file is missing, with ``{name}``
        for its file name. ``None``: a lone one is most likely not microscopy
        data (an ``.xml`` of any kind) and is simply not supported.
    """

    suffixes: tuple[str, ...]
    main_of: Callable[[Path], Path | None]
    alone: str | None = None


@dataclass(frozen=True)
class FormatDescriptor:
    """One format plugin: what it is called, which files it takes, how it reads them.

    Attributes
    ----------
    name : str
        The short format id used in plans and JSON (``czi``, ``emd``, ...).
    label : str
        What the user sees in the file list and the file dialog.
    extensions : tuple of str
        Lower-case suffixes it claims, longest first.
    is_supported : callable
        ``is_supported(path) -> bool``: cheap, never raises.
    read_metadata : callable
        ``read_metadata(path) -> FileMetadata``: raises :class:`FormatError`
        with a one-line, plain-language reason for anything it cannot read.
    convert : callable or None
        ``convert(path, out_dir) -> list[Path]`` writes OME-TIFF file(s) into
        ``out_dir``; ``None`` for a format OMERO imports as it is (CZI).
    companions : Companions or None
        The files that go with a main file (the ``.ser`` of an ``.emi``).
    """

    name: str
    label: str
    extensions: tuple[str, ...]
    is_supported: Callable[[Path], bool]
    read_metadata: Callable[[Path], FileMetadata]
    convert: ConvertFn | None = None
    companions: Companions | None = None

    @property
    def converts(self) -> bool:
        """Whether files of this format are converted to OME-TIFF before import."""
        return self.convert is not None

    def claims_name(self, path: Path) -> int:
        """Return the length of the longest of :attr:`extensions` ending ``path``'s name, or 0."""
        name = path.name.lower()
        return max((len(e) for e in self.extensions if name.endswith(e)), default=0)


def local_time(text: str | None) -> dt.datetime | None:
    """Parse an ISO 8601 timestamp; one without an offset is this PC's local time."""
    if not text or not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.astimezone()


def starts_with(path: Path, magic: bytes) -> bool:
    """Say whether the file at ``path`` begins with ``magic``; never raises."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False
