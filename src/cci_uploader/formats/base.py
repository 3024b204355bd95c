"""The shape every format module shares, and the metadata it returns.

A format module (one per file kind, see ``formats/__init__.py``) exposes:

- ``NAME``: the short format id used in plans and JSON (``czi``, ``emd``, ...);
- ``EXTENSIONS``: lower-case suffixes it claims, longest first;
- ``is_supported(path) -> bool``: cheap, never raises;
- ``read_metadata(path) -> FileMetadata``: raises :class:`FormatError` with a
  one-line, plain-language reason for anything it cannot read;
- ``convert(path, out_dir) -> list[Path]``: writes OME-TIFF file(s) into
  ``out_dir`` (only for formats with ``CONVERTS = True``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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


class FormatModule(Protocol):
    """The module-level interface of one format plugin."""

    NAME: str
    EXTENSIONS: tuple[str, ...]
    CONVERTS: bool

    def is_supported(self, path: Path) -> bool:
        """Say cheaply whether ``path`` is this format; never raise."""
        ...

    def read_metadata(self, path: Path) -> FileMetadata:
        """Read metadata without decoding pixels."""
        ...

    def convert(self, path: Path, out_dir: Path) -> list[Path]:
        """Write OME-TIFF output(s) into ``out_dir`` and return their paths."""
        ...
