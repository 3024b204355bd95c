"""How the managed repository turns a clientPath into stored names.

Server rules mirrored here (omero-blitz ``ome/services/blitz/repo``):

- ``ManagedRepositoryI.internalImport`` builds ``new FsFile(clientPath)``;
  ``FsFile(String)`` splits on ``/`` only and drops empty components
  (``path/FsFile.java``, ``splitComponents``).
- Every component is cleaned by ``MakePathComponentSafe.apply`` with the
  default ``omero.fs.repo.path_rules = Windows required, UNIX required``
  (``path/FilePathRestrictionInstance.java``; combined with the control
  characters of ``FilePathRestrictions.includeControlTransformations``).
- The OriginalFile is named after the last cleaned component
  (``RepositoryDaoImpl.createOriginalFile`` takes ``FsFile`` name and path).

This is the server's side, written from the server's source; the client has
its own implementation (:func:`cci_uploader.omero.transfer.client_path`), so
a mistake in one is caught by the tests of the other.
"""

from __future__ import annotations

import unicodedata

# FilePathRestrictionInstance static block: WINDOWS_REQUIRED's transformation
# matrix (UNIX_REQUIRED adds NUL -> '_' and '/' -> '!', already here).
_TRANSFORM = {
    ord('"'): "'",
    ord("*"): "x",
    ord("/"): "!",
    ord(":"): ";",
    ord("<"): "[",
    ord(">"): "]",
    ord("?"): "%",
    ord("\\"): "!",
    ord("|"): "!",
}
_SAFE = "_"
# WINDOWS_REQUIRED unsafeNames; unsafePrefixes are these plus "." and "$".
_RESERVED = frozenset(
    {"AUX", "CLOCK$", "CON", "NUL", "PRN"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)
_PREFIXES = (*(f"{name}." for name in sorted(_RESERVED)), "$")


def _is_control(code_point: int) -> bool:
    # FilePathRestrictions: code points below 0x100 of type Character.CONTROL.
    return code_point < 0x100 and unicodedata.category(chr(code_point)) == "Cc"


def safe_component(component: str) -> str:
    """Clean one path component as ``MakePathComponentSafe.apply`` does."""
    upper = component.upper()
    if upper in _RESERVED:
        component += _SAFE
    # apply() checks every prefix against the upper-cased *original* string.
    for prefix in _PREFIXES:
        if upper.startswith(prefix):
            component = _SAFE + component
    return "".join(
        _SAFE if _is_control(ord(ch)) else _TRANSFORM.get(ord(ch), ch) for ch in component
    )


def stored_components(client_path: str) -> list[str]:
    """The cleaned components the repository stores for one clientPath."""
    return [safe_component(c) for c in client_path.split("/") if c]


def original_file_name(client_path: str) -> str:
    """The name the server gives the OriginalFile of this clientPath."""
    components = stored_components(client_path)
    if not components:
        raise ValueError("a clientPath needs at least one component")
    return components[-1]
