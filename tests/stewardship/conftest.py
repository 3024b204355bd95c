"""A stand-in whose clock the tests set, a connection to it, and a history file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.history import History


class Clock:
    """The stand-in's "now": real time, moved by tests instead of sleeping."""

    def __init__(self) -> None:
        self.real = dt.datetime.now(dt.UTC)
        self.now = self.real

    def __call__(self) -> dt.datetime:
        return self.now

    def days_ago(self, days: float) -> None:
        self.now = self.real - dt.timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[SandboxServer]:
    with SandboxServer(now=clock) as server:
        yield server


@pytest.fixture
def conn(sandbox: SandboxServer, token: str) -> Iterator[om.Connection]:
    connection = om.connect(sandbox.address, token)
    yield connection
    connection.close()


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "history.sqlite3")


@pytest.fixture(autouse=True)
def _isolated_trash(_isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recycle bin under the test's folder: send2trash reads its location at import."""
    import send2trash.plat_other as trash

    data = _isolated_dirs / "data"
    monkeypatch.setenv("HOME", str(_isolated_dirs))
    monkeypatch.setattr(trash, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(trash, "HOMETRASH_B", os.fsencode(data / "Trash"))
    monkeypatch.setattr(trash, "HOMETRASH", str(data / "Trash"))
    return data / "Trash"
