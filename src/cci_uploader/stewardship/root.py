"""The clean-up root: what may be a root, and what under it is never touched.

- A drive root, a user's profile folder (or the folder holding the profiles) and
  system folders are refused as ``--root``.
- Nothing outside the root is acted on, after resolving links; links and
  junctions are never followed or removed.
- Recycle bins under the root are not data; nor are the app's own history,
  cache, config and logs, wherever they are.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cci_uploader.config import APP, config_paths
from cci_uploader.logsetup import log_dir
from cci_uploader.stewardship.history import history_path

if TYPE_CHECKING:
    from collections.abc import Iterator

# Folders Windows and the desktops keep deleted files in, and a volume's system folder.
_BINS = {"$recycle.bin", "recycler", "recycled", ".trashes", "system volume information"}


class RootRefused(Exception):
    """The folder cannot be a clean-up root; the message says why and what to give instead."""


def is_link(path: Path) -> bool:
    """A symbolic link or (on Windows) a junction: never followed, never removed."""
    try:
        return path.is_symlink() or path.is_junction()
    except OSError:
        return True  # cannot tell: treat it as one


def is_recycle_bin(name: str) -> bool:
    """Whether a folder name is a recycle bin (``$Recycle.Bin``, ``.Trash-1000``, ...)."""
    lowered = name.lower()
    return lowered in _BINS or lowered == ".trash" or lowered.startswith(".trash-")


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every link resolved, is ``root`` or under it."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a loop of links
        return False


def _profiles_folders() -> set[Path]:
    found = set()
    for var in ("USERPROFILE", "PUBLIC"):
        if value := os.environ.get(var):
            found.add(Path(value).parent)
    if sys.platform != "win32":
        found.update(Path(p) for p in ("/home", "/Users"))
    return {p.resolve() for p in found if p.parent != p}


def _system_folders() -> set[Path]:
    if sys.platform == "win32":
        names = ("SystemRoot", "windir", "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432")
        found = {Path(v) for n in names if (v := os.environ.get(n))}
        found.add(Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")))
    else:
        found = {Path(p) for p in ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc")}
        found.update(Path(p) for p in ("/sbin", "/sys", "/usr", "/var", "/root", "/opt"))
    return {p.resolve() for p in found}


def check_root(root: Path) -> Path:
    """Return ``root`` resolved, or raise :class:`RootRefused` saying why it cannot be one."""
    resolved = root.resolve()
    if not resolved.is_dir():
        raise RootRefused(f"--root {root} is not a folder.")
    home = Path.home().resolve()
    what = None
    if resolved.parent == resolved:
        what = "a drive root"
    elif home.is_relative_to(resolved):
        what = "a user's profile folder, or a folder that holds it"
    elif resolved in _profiles_folders() or resolved.parent in _profiles_folders():
        what = "a user's profile folder, or the folder that holds the profiles"
    elif any(resolved.is_relative_to(s) for s in _system_folders()):
        what = "a system folder"
    if what is not None:
        raise RootRefused(
            f"--root {root} is {what}; the clean-up only works in a data folder, "
            "such as D:\\Data. Give the folder the microscope saves into."
        )
    return resolved


def app_paths(history: Path | None = None) -> tuple[Path, ...]:
    """The app's own files and folders (history, cache, config, logs): never data."""
    extra = []
    if history is not None:  # a history kept elsewhere, with SQLite's side files
        extra = [history.with_name(history.name + s) for s in ("", "-journal", "-wal", "-shm")]
    paths = [
        history_path().parent,
        Path(platformdirs.user_cache_dir(APP, appauthor=False)),
        log_dir(),
        # The app's config folders, and a config file named by CCI_UPLOADER_CONFIG.
        *(p.parent if p.parent.name == APP else p for p in config_paths()),
        *extra,
    ]
    return tuple(p.resolve() for p in paths)


def walk(root: Path, own: tuple[Path, ...]) -> Iterator[Path]:
    """Files under ``root`` in a stable order, links included but never followed.

    Linked and junction folders, recycle bins and the app's own folders are skipped.
    """
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not is_link(here / d) and not is_recycle_bin(d) and (here / d).resolve() not in own
        )
        for name in sorted(files):
            path = here / name
            if not _is_own(path, own):
                yield path


def _is_own(path: Path, own: tuple[Path, ...]) -> bool:
    if is_link(path):
        return False  # reported as a link, never removed
    resolved = path.resolve()
    return any(resolved.is_relative_to(p) for p in own)
