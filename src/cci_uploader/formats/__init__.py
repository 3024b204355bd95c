"""Format plugins: one module per kind of file the facility's microscopes write.

Each module describes itself with a :class:`FormatDescriptor`; the registry
(:mod:`cci_uploader.formats.registry`) lists them. ``detect(path)`` finds the
format that claims a file. Companion files (the ``.ser`` of an EMI+SER pair,
the ``.xml`` of an MRC+XML pair) are not formats of their own:
:func:`companion_owner` names the main file's format instead.
"""

from __future__ import annotations

from cci_uploader.formats.base import Companions, FileMetadata, FormatDescriptor, FormatError
from cci_uploader.formats.registry import (
    BUILTIN_MODULES,
    all_formats,
    claims_suffix,
    companion_owner,
    detect,
    file_dialog_filter,
    format_label,
    get_format,
    markdown_table,
    register,
    supported_labels,
    unregister,
)

__all__ = [
    "BUILTIN_MODULES",
    "Companions",
    "FileMetadata",
    "FormatDescriptor",
    "FormatError",
    "all_formats",
    "claims_suffix",
    "companion_owner",
    "detect",
    "file_dialog_filter",
    "format_label",
    "get_format",
    "markdown_table",
    "register",
    "supported_labels",
    "unregister",
]
