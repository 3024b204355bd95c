"""A stand-in whose clock the tests set, a connection to it, and a history file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stewardship_helpers import Clock

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer
from cci_uploader.stewardship.history import History


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
def _home_beside_trash(_isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """send2trash uses the home trash only for files on the home's device: make it ours."""
    monkeypatch.setenv("HOME", str(_isolated_dirs))
