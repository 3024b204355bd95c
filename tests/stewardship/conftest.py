"""A history file, and a recycle bin kept under the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.omero.password_login import login
from cci_uploader.sandbox import SERVICE_ACCOUNT, SERVICE_PASSWORD, SandboxServer
from cci_uploader.stewardship.history import History
from tests.stewardship.stewardship_helpers import facility_config, stdin


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "history.sqlite3")


@pytest.fixture(autouse=True)
def _home_beside_trash(_isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """send2trash uses the home trash only for files on the home's device: make it ours."""
    monkeypatch.setenv("HOME", str(_isolated_dirs))


@pytest.fixture
def facility(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = facility_config(tmp_path / "facility.toml", sandbox.address)
    monkeypatch.setenv("CCI_UPLOADER_CONFIG", str(config))
    return config


@pytest.fixture
def stored(facility: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The account's password, set as staff do it: piped into ``cleanup --set-password``."""
    stdin(monkeypatch, SERVICE_PASSWORD + "\n")
    assert main(["cleanup", "--set-password"]) == 0
    yield


@pytest.fixture
def service(sandbox: SandboxServer) -> Iterator[om.Connection]:
    """The facility account's own connection, as the clean-up logs in."""
    conn = login(sandbox.address, SERVICE_ACCOUNT, SERVICE_PASSWORD)
    conn.switch_group("Sandbox Lab")
    yield conn
    conn.close()
