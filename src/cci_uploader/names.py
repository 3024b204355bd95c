"""Names from files are data: clean and bound what becomes a Project, Dataset, pair or tag.

A file can hold any text where a microscope name belongs (an 8 MB
``InstrumentModel`` made an 8-million-character Project). Every name the app
builds from a file passes :func:`clean_name`, which removes control and
bidirectional-override characters (which can make a name display as
something else), collapses the whitespace they leave, and trims the result
to :data:`MAX_NAME` characters. The caller shows the returned note on the
file's row, so the user sees that the name was changed.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 255
"""Longest Project, Dataset, key, value or tag name the app creates, in characters."""

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the
# Arabic letter mark: they reorder how the rest of the name is displayed.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_BLANKS = "\t\n\r"  # control characters that separate words: they become spaces


def _removed(char: str) -> bool:
    return char in _BIDI or unicodedata.category(char) == "Cc"


def clean_name(text: str, what: str = "name") -> tuple[str, str]:
    """Return ``text`` cleaned and bounded, and a note saying what changed ("" if nothing).

    Parameters
    ----------
    text : str
        The raw name, e.g. the microscope model stored in a file.
    what : str
        What the name becomes, for the note: ``"Project name"``.
    """
    # Look at no more than the limit needs: a megabyte name is not scanned in full.
    head = text[: MAX_NAME * 4]
    changes = []
    if any(_removed(c) for c in head):
        head = "".join(" " if c in _BLANKS else c for c in head if c in _BLANKS or not _removed(c))
        changes.append("cleaned of control characters")
    cleaned = head.strip()
    if len(text) > MAX_NAME * 4 or len(cleaned) > MAX_NAME:
        cleaned = cleaned[:MAX_NAME].rstrip()
        changes.append(f"shortened to {MAX_NAME} characters")
    if not changes:
        return cleaned, ""
    return cleaned, f"{what} {' and '.join(changes)}"
