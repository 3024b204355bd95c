"""Where the app keeps what it remembers: the upload history, the window's settings, its cache.

The user's own workspace lives in their data, config and cache folders.  The
training sandbox (``gui --sandbox``, the sandbox Start-menu entry, ``demo`` and
``--self-test``) gets a throwaway one in a temporary folder, deleted when it
ends, so nothing done in training reaches the user's history, remembered pairs
or last group.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cci_uploader.config import APP
from cci_uploader.stewardship.history import History

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class Workspace:
    """The history, the window's settings file and the cache folder of one run."""

    history: History
    settings_path: Path
    cache_dir: Path
    throwaway: bool = False


def user_workspace() -> Workspace:
    """The user's own: their upload history, ``gui.ini`` and cache folder."""
    return Workspace(
        history=History(),
        settings_path=Path(platformdirs.user_config_dir(APP, appauthor=False)) / "gui.ini",
        cache_dir=Path(platformdirs.user_cache_dir(APP, appauthor=False)),
    )


@contextlib.contextmanager
def throwaway_workspace() -> Iterator[Workspace]:
    """A fresh workspace in a temporary folder, removed (with all it holds) at the end."""
    with tempfile.TemporaryDirectory(
        prefix="cci-uploader-sandbox-", ignore_cleanup_errors=True
    ) as folder:
        root = Path(folder)
        yield Workspace(
            history=History(root / "history.sqlite3"),
            settings_path=root / "gui.ini",
            cache_dir=root / "cache",
            throwaway=True,
        )
