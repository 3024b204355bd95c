"""What the client sends as a file's clientPath, and the name OMERO stores for it.

OMERO's Java importer (omero-blitz ``ImportContainer.fillData`` with
``ImportLibrary``'s ``ClientFilePathTransformer``) splits the *local*
absolute path on the local separator, drops empty components, cleans each
with the portable rules (Windows required + UNIX required,
``MakePathComponentSafe``) and joins them with ``/``.  The server splits on
``/`` only, so a raw Windows path sent as one string would become a single
component named ``C;!Users!…!x.czi``.  Sending the cleaned components keeps
the stored name equal to the cleaned local file name.
"""

from __future__ import annotations

import re
from pathlib import PurePath, PureWindowsPath

# Character substitutions of the portable rules; control characters (C0, DEL
# and C1, as Java's Character.CONTROL below U+0100) become "_".
_TABLE = str.maketrans(
    {
        **{c: "_" for c in [*range(0x20), *range(0x7F, 0xA0)]},
        '"': "'",
        "*": "x",
        "/": "!",
        ":": ";",
        "<": "[",
        ">": "]",
        "?": "%",
        "\\": "!",
        "|": "!",
    }
)
_DEVICE = r"(?:CON|PRN|AUX|NUL|CLOCK\$|COM[1-9]|LPT[1-9])"
_DEVICE_NAME = re.compile(rf"{_DEVICE}", re.IGNORECASE)
_DEVICE_PREFIX = re.compile(rf"^(?:{_DEVICE}\.|\$)", re.IGNORECASE)


def clean_component(name: str) -> str:
    """One path component made safe the way OMERO's importer does it."""
    fixed = name + "_" if _DEVICE_NAME.fullmatch(name) else name
    if _DEVICE_PREFIX.match(name):
        fixed = "_" + fixed
    return fixed.translate(_TABLE)


def _components(path: PurePath) -> list[str]:
    if isinstance(path, PureWindowsPath):
        # Java's File.getAbsolutePath split on '\': "C:" and UNC host/share are
        # components.  Python may resolve to an extended-length path, which
        # Java's would not have: drop its "\\?\" (or "\\?\UNC\") prefix.
        text = str(path).replace("/", "\\")
        for prefix in ("\\\\?\\UNC\\", "\\\\?\\"):
            if text.startswith(prefix):
                text = text[len(prefix) :]
                break
        raw = text.split("\\")
    else:
        raw = str(path).split("/")
    return [c for c in raw if c]


def client_path(path: PurePath) -> str:
    """The clientPath OMERO's Java importer would send for ``path`` (absolute)."""
    components = _components(path)
    if not components:
        raise ValueError(f"{path!s} has no file name")
    return "/".join(clean_component(c) for c in components)


def stored_name(path: PurePath) -> str:
    """The name OMERO gives the original file uploaded from ``path``."""
    return client_path(path).rsplit("/", 1)[-1]
