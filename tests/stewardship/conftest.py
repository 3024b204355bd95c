"""A history file, and a recycle bin kept under the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cci_uploader.stewardship.history import History


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "history.sqlite3")


@pytest.fixture(autouse=True)
def _home_beside_trash(_isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """send2trash uses the home trash only for files on the home's device: make it ours."""
    monkeypatch.setenv("HOME", str(_isolated_dirs))
