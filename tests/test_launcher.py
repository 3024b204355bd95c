"""The windowed exe's entry point (installer/launcher.py): no streams, yet nothing vanishes.

PyInstaller's windowed Windows exe starts with ``sys.stdout`` and ``sys.stderr``
set to None; these tests start the real entry point the same way. Only the
Windows message box itself is replaced, by a list of what it would show.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

LAUNCHER = Path(__file__).resolve().parents[1] / "installer" / "launcher.py"


def _launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cci_launcher", LAUNCHER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _no_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    # In the test's body: pytest sets its own capture streams again when the call starts.
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)


def test_start_up_without_qt_shows_the_reason_and_the_log_path(
    monkeypatch: pytest.MonkeyPatch, _isolated_dirs: Path
) -> None:
    _no_streams(monkeypatch)
    # Qt missing from the bundle: PySide6 cannot be imported, the window module neither.
    monkeypatch.setitem(sys.modules, "PySide6", None)
    for name in [n for n in sys.modules if n.startswith("cci_uploader.ui.")]:
        monkeypatch.delitem(sys.modules, name)
    shown: list[tuple[str, str]] = []
    code = _launcher().run(["gui"], show=lambda title, text: shown.append((title, text)))
    assert code == 1
    ((title, text),) = shown
    assert title == "CCI OMERO Uploader could not start"
    assert "The window needs the 'gui' extra (PySide6 is missing)" in text
    log_file = _isolated_dirs / "logs" / "cci-uploader.log"
    assert text.endswith(f"Details are in the log file:\n{log_file}")
    # What the UI wrote to its missing stderr is in the log file.
    assert "WARNING cci_uploader.stderr: The window needs the 'gui' extra" in log_file.read_text()


def test_usage_error_is_shown_not_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_streams(monkeypatch)
    shown: list[tuple[str, str]] = []
    code = _launcher().run(["no-such-command"], show=lambda t, x: shown.append((t, x)))
    assert code == 2
    ((_, text),) = shown
    assert "invalid choice: 'no-such-command'" in text


def test_success_shows_nothing_and_logs_the_output(
    monkeypatch: pytest.MonkeyPatch, _isolated_dirs: Path
) -> None:
    _no_streams(monkeypatch)
    shown: list[tuple[str, str]] = []
    code = _launcher().run(["history", "--csv"], show=lambda t, x: shown.append((t, x)))
    assert code == 0
    assert shown == []
    log = (_isolated_dirs / "logs" / "cci-uploader.log").read_text()
    assert "INFO cci_uploader.stdout: " in log  # the CSV header went to the log


def test_with_streams_it_is_the_plain_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    shown: list[tuple[str, str]] = []
    with pytest.raises(SystemExit) as exc:
        _launcher().run(["--version"], show=lambda t, x: shown.append((t, x)))
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("cci-uploader ")
    assert shown == []
