"""A small JSON list of records in the app's data folder, replaced whole on each save.

Used for what must outlive a crash but is not history: uploads left unfinished
(:mod:`cci_uploader.omero.orphans`) and imports still running on OMERO
(:mod:`cci_uploader.pipeline.inflight`).  Only ids, names and hashes go in; no
token ever does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def load_entries(path: Path) -> list[dict[str, object]]:
    """The records in ``path``; a missing or damaged file holds none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def save_entries(path: Path, entries: list[dict[str, object]]) -> None:
    """Write ``entries`` to ``path`` atomically (a crash leaves the old file or the new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    tmp.replace(path)
