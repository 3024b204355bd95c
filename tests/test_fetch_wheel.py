"""tools/fetch_wheel.py: a wheel is kept only when its SHA-256 is the pinned one."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "fetch_wheel.py"


def _fetch(url: str, sha256: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), url, sha256, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _wheel(tmp_path: Path) -> tuple[str, str]:
    wheel = tmp_path / "src" / "zeroc_ice-3.6.5-cp312-cp312-win_amd64.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK\x03\x04 not really a wheel")
    return wheel.as_uri(), hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_the_pinned_wheel_is_kept(tmp_path: Path) -> None:
    url, digest = _wheel(tmp_path)
    result = _fetch(url, digest, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    kept = Path(result.stdout.strip())
    assert kept.parent == tmp_path / "out"
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest


def test_another_wheel_is_refused_and_not_left_behind(tmp_path: Path) -> None:
    url, _ = _wheel(tmp_path)
    result = _fetch(url, "0" * 64, tmp_path / "out")
    assert result.returncode == 1
    assert "not the pinned" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_an_unpinned_wheel_is_refused_with_its_hash(tmp_path: Path) -> None:
    url, digest = _wheel(tmp_path)
    result = _fetch(url, "unpinned", tmp_path / "out")
    assert result.returncode == 1
    assert f"is not pinned. Its SHA-256 is {digest}" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []
