"""Fixtures shared by the whole suite: isolation, time zone, the OMERO stand-in."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer
from tests.standin import Clock

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def _sha256_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def _sources_untouched() -> Iterator[None]:
    """Every sample file has the same SHA-256 after the whole suite as before it."""
    before = _sha256_tree(SAMPLES)
    assert before, f"no sample files found in {SAMPLES}"
    yield
    assert _sha256_tree(SAMPLES) == before, "a test modified a source file"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, data, state and logs of the app go under the test's tmp_path."""
    home = tmp_path / "app-home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CONFIG_DIRS", "site-config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("CCI_UPLOADER_LOG_DIR", str(home / "logs"))
    monkeypatch.delenv("CCI_OMERO_TOKEN", raising=False)
    monkeypatch.delenv("CCI_UPLOADER_CONFIG", raising=False)
    # Passwords go to a file under the test's folder, never to the real credential store.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    import keyring.core

    keyring.core.init_backend()
    return home


@pytest.fixture(autouse=True)
def _isolated_trash(_isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recycle bin under the test's folder: send2trash reads its location at import."""
    import send2trash.plat_other as trash

    data = _isolated_dirs / "data"
    monkeypatch.setattr(trash, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(trash, "HOMETRASH_B", os.fsencode(data / "Trash"))
    monkeypatch.setattr(trash, "HOMETRASH", str(data / "Trash"))
    return data / "Trash"


@pytest.fixture
def stockholm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Pin the local time zone to the facility's (Gothenburg)."""
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    yield "Europe/Stockholm"
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def samples() -> Iterator[Path]:
    """The shared sample folder; the test fails if it changed any byte of it."""
    before = _sha256_tree(SAMPLES)
    yield SAMPLES
    assert _sha256_tree(SAMPLES) == before, "this test modified a source file"


@pytest.fixture
def clock() -> Clock:
    """The stand-in's clock: real time until a test moves it."""
    return Clock()


# Which of the stand-in's listeners the suite talks to: "ssl" (what a bare
# HOST:4064 means, the default) or "tcp"; CI runs the suite over both.
PROTOCOL = os.environ.get("CCI_SANDBOX_PROTOCOL", "ssl")


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[SandboxServer]:
    """The stand-in playing the facility's server: it does not say it is the training sandbox."""
    with SandboxServer(now=clock, training=False, protocol=PROTOCOL) as server:
        yield server


@pytest.fixture
def training_sandbox(clock: Clock) -> Iterator[SandboxServer]:
    """The stand-in as ``cci-uploader sandbox`` runs it: it says it is the training sandbox."""
    with SandboxServer(now=clock, protocol=PROTOCOL) as server:
        yield server


@pytest.fixture
def token(sandbox: SandboxServer) -> str:
    return sandbox.new_token()


@pytest.fixture
def conn(sandbox: SandboxServer, token: str) -> Iterator[om.Connection]:
    """The app's connection to the stand-in, as the demo user."""
    connection = om.connect(sandbox.address, token)
    yield connection
    connection.close()
