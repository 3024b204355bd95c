"""Format plugins: one module per kind of file the facility's microscopes write.

``detect(path)`` finds the module that claims a file. Companion files (the
``.ser`` of an EMI+SER pair, the ``.xml`` of an MRC+XML pair) are not formats
of their own: :func:`companion_owner` names the main file's format instead.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import cast

from cci_uploader.formats.base import FileMetadata, FormatError, FormatModule

__all__ = [
    "COMPANION_SUFFIXES",
    "FileMetadata",
    "FormatError",
    "FormatModule",
    "all_formats",
    "claims_suffix",
    "companion_owner",
    "detect",
    "get_format",
]

# Order matters only where two modules claim the same suffix: content decides.
_MODULE_NAMES = ("czi", "emd", "tia", "mrc", "fibics", "sem_tif")

# Suffixes that belong to another file's format rather than being files to upload.
COMPANION_SUFFIXES = {".ser": "emi_ser", ".xml": "mrc_xml"}

_loaded: dict[str, FormatModule] = {}


def _load(module_name: str) -> FormatModule | None:
    if module_name not in _loaded:
        try:
            module = importlib.import_module(f"cci_uploader.formats.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"cci_uploader.formats.{module_name}":
                return None  # plugin not written yet
            raise
        _loaded[module_name] = cast(FormatModule, module)
    return _loaded[module_name]


def all_formats() -> list[FormatModule]:
    """Return every available format module."""
    return [m for m in (_load(n) for n in _MODULE_NAMES) if m is not None]


def get_format(name: str) -> FormatModule:
    """Return the format module whose ``NAME`` is ``name``."""
    for module in all_formats():
        if name == module.NAME:
            return module
    raise KeyError(name)


def _suffix_matches(path: Path, module: FormatModule) -> bool:
    name = path.name.lower()
    return any(name.endswith(ext) for ext in module.EXTENSIONS)


def claims_suffix(path: Path) -> bool:
    """Say whether some format takes files named like ``path`` (its content aside)."""
    return any(_suffix_matches(path, m) for m in all_formats())


def detect(path: Path) -> FormatModule | None:
    """Return the format module that claims ``path``, or ``None``.

    Modules are asked in order of their longest matching suffix, so
    ``.ome.tif`` is tried before ``.tif``; each then sniffs content.
    """
    candidates = [m for m in all_formats() if _suffix_matches(path, m)]
    candidates.sort(
        key=lambda m: -max(len(e) for e in m.EXTENSIONS if path.name.lower().endswith(e))
    )
    for module in candidates:
        if module.is_supported(path):
            return module
    return None


def companion_owner(path: Path) -> str | None:
    """Return the pair format a companion-only file belongs to, if it is one."""
    return COMPANION_SUFFIXES.get(path.suffix.lower())
