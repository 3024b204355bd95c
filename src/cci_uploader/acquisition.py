"""The acquisition-metadata pairs of one planned file (see ``omero/acquisition.py``).

Built from what the format read (objective, detector, channels, high tension
and magnification for EM), the pixel size, the instrument as stored and as
mapped to a Project, the acquisition time with its zone (and where it came
from), and each original file's name and SHA-1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cci_uploader.plan import PlannedFile

_NAMES_BOUND = 255  # OMERO.web shows values in one line; names from files are data


def _clean(text: str) -> str:
    return " ".join(text.split())[:_NAMES_BOUND]


def acquisition_pairs(
    file: PlannedFile, originals: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Return the pairs for ``file``; ``originals`` are (file name, SHA-1) of its files."""
    meta = file.scan.metadata
    if meta is None:
        return []
    pairs = [(key, value) for key, value in meta.acquisition.items()]
    if meta.pixel_size_m is not None:
        x, y = (v * 1e6 for v in meta.pixel_size_m)
        pairs.append(("Pixel size", f"{x:.6g} x {y:.6g} µm"))
    pairs.append(("Instrument (as stored)", meta.microscope or "not stored in the file"))
    if file.microscope:
        pairs.append(("Instrument (mapped)", file.microscope))
    if meta.software:
        pairs.append(("Software", meta.software))
    if meta.acquired is not None:
        pairs.append(("Acquired", meta.acquired.isoformat()))
        pairs.append(("Date source", file.date_note or "acquisition time in the file"))
    for name, sha1 in originals:
        pairs.append(("Original file", name))
        pairs.append(("Original SHA-1", f"{sha1} ({name})"))
    return [(_clean(k), _clean(v)) for k, v in pairs if k.strip() and v.strip()]
