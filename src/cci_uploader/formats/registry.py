"""The one list of formats: every part of the app that needs to know them reads it.

Each format module ends with its :class:`~cci_uploader.formats.base.FormatDescriptor`
(``FORMAT``); :data:`BUILTIN_MODULES` names those modules, in the order they
are asked when two claim the same suffix (content then decides). The scan,
the file list's labels, the file dialog's filter, the self-test, the CLI and
``docs/formats.md`` all come from here, so a new format is one new module and
one line below. :func:`register` adds a format at run time, as a plugin would.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from cci_uploader.formats.base import FormatDescriptor

if TYPE_CHECKING:
    from pathlib import Path

BUILTIN_MODULES = ("czi", "emd", "tia", "mrc", "fibics", "sem_tif")
"""Format modules under ``cci_uploader.formats``; order breaks ties between equal suffixes."""

_registered: list[FormatDescriptor] = []


def _builtins() -> list[FormatDescriptor]:
    # Read from each module every time (an import is a dictionary look-up once
    # done): nothing is cached here to go stale, and a test may swap a FORMAT.
    descriptors = []
    for module_name in BUILTIN_MODULES:
        module = importlib.import_module(f"cci_uploader.formats.{module_name}")
        descriptor = module.FORMAT
        if not isinstance(descriptor, FormatDescriptor):
            raise TypeError(f"cci_uploader.formats.{module_name}.FORMAT is not a FormatDescriptor")
        descriptors.append(descriptor)
    return descriptors


def all_formats() -> list[FormatDescriptor]:
    """Return every format: the built-in ones, then those added by :func:`register`."""
    return [*_builtins(), *_registered]


def register(descriptor: FormatDescriptor) -> None:
    """Add a format after the built-in ones.

    Raises
    ------
    ValueError
        If a format of that name is already known.
    """
    if any(f.name == descriptor.name for f in all_formats()):
        raise ValueError(f"a format named {descriptor.name!r} is already registered")
    _registered.append(descriptor)


def unregister(name: str) -> None:
    """Remove a format added by :func:`register`; the built-in ones stay."""
    _registered[:] = [f for f in _registered if f.name != name]


def get_format(name: str) -> FormatDescriptor:
    """Return the format whose name is ``name``.

    Raises
    ------
    KeyError
        If no format has that name.
    """
    for descriptor in all_formats():
        if descriptor.name == name:
            return descriptor
    raise KeyError(name)


def format_label(name: str) -> str:
    """Return what the user sees for the format named ``name``: its label, else the name."""
    return next((f.label for f in all_formats() if f.name == name), name)


def claims_suffix(path: Path) -> bool:
    """Say whether some format takes files named like ``path`` (its content aside)."""
    return any(f.claims_name(path) for f in all_formats())


def detect(path: Path) -> FormatDescriptor | None:
    """Return the format that claims ``path``, or ``None``.

    Formats are asked in order of their longest matching suffix, so
    ``.ome.tif`` is tried before ``.tif``; each then sniffs content.
    """
    candidates = [f for f in all_formats() if f.claims_name(path)]
    candidates.sort(key=lambda f: -f.claims_name(path))
    for descriptor in candidates:
        if descriptor.is_supported(path):
            return descriptor
    return None


def companion_owner(path: Path) -> FormatDescriptor | None:
    """Return the format whose companion files are named like ``path``, if any."""
    suffix = path.suffix.lower()
    for descriptor in all_formats():
        if descriptor.companions is not None and suffix in descriptor.companions.suffixes:
            return descriptor
    return None


def _joined(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def supported_labels() -> str:
    """``Zeiss CZI, Velox EMD, … or Zeiss SEM TIFF``: for messages about unsupported files."""
    return _joined([f.label for f in all_formats()])


def _patterns(extensions: list[str]) -> str:
    return " ".join(f"*{e}" for e in dict.fromkeys(extensions))


def file_dialog_filter() -> str:
    """Return the name filter of the Add files dialog: every format, each one, all files."""
    every = _patterns([e for f in all_formats() for e in f.extensions])
    each = [f"{f.label} ({_patterns(list(f.extensions))})" for f in all_formats()]
    return ";;".join([f"Microscope files ({every})", *each, "All files (*)"])


def markdown_table() -> str:
    """Return the formats as the Markdown table ``docs/formats.md`` holds."""
    rows = [
        "| Format | Files | Companions | Uploaded as |",
        "| --- | --- | --- | --- |",
    ]
    for f in all_formats():
        companions = ", ".join(f"`{s}`" for s in f.companions.suffixes) if f.companions else ""
        how = "OME-TIFF (converted)" if f.converts else "as it is"
        files = ", ".join(f"`{e}`" for e in f.extensions)
        rows.append(f"| {f.label} | {files} | {companions} | {how} |")
    return "\n".join(rows) + "\n"
