"""Where files go, before they go: this PC's microscope, per user, in Settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from cci_uploader.pipeline import Status
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.dialogs.settings import SettingsDialog
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import MICROSCOPE, TARGET, UNKNOWN_SHOWN
from cci_uploader.ui.settings import AppSettings
from tests.ui.uihelpers import Outside, add, connect, run_to_end, statuses

NO_MICROSCOPE = "czi/RGB-8bit.czi"  # its metadata names no microscope


def _set_microscope(qtbot: QtBot, window: MainWindow, name: str) -> SettingsDialog:
    window.settings_action.trigger()
    dialog = window.settings_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.microscope_edit.setText(name)
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    return dialog


def test_unknown_microscope_says_where_to_set_it_and_settings_moves_the_rows(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    settings: AppSettings,
    outside: Outside,
    samples: Path,
    sandbox: SandboxServer,
    token: str,
) -> None:
    window = make_window()
    add(qtbot, window, outside, samples / NO_MICROSCOPE, rows=1)
    model = window.model
    assert model.index(0, MICROSCOPE).data() == UNKNOWN_SHOWN
    assert UNKNOWN_SHOWN == "Unknown microscope (set this PC's microscope in Settings)"

    _set_microscope(qtbot, window, "  LSM 980   (room 2.14) ")
    assert model.index(0, MICROSCOPE).data() == "LSM 980 (room 2.14) (this PC's default)"
    assert model.index(0, TARGET).data().startswith("LSM 980 (room 2.14) / ")
    assert settings.default_microscope() == "LSM 980 (room 2.14)"

    connect(qtbot, window, token)
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.UPLOADED]
    [image] = sandbox.objects("Image")
    assert sandbox.location(image.getId().getValue())[0] == "LSM 980 (room 2.14)"

    # Per user and remembered: the next window (and its scans) use it too.
    again = make_window()
    add(qtbot, again, outside, samples / NO_MICROSCOPE, rows=1)
    assert again.model.index(0, MICROSCOPE).data() == "LSM 980 (room 2.14) (this PC's default)"


def test_the_users_microscope_overrides_the_facility_default_and_empty_restores_it(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    outside: Outside,
    samples: Path,
    sandbox: SandboxServer,
) -> None:
    window = make_window()
    window.session.facility_microscope = "Facility scope"
    window.session.apply_microscope("")
    add(qtbot, window, outside, samples / NO_MICROSCOPE, rows=1)
    assert window.model.index(0, MICROSCOPE).data() == "Facility scope (this PC's default)"
    dialog = _set_microscope(qtbot, window, "My scope")
    assert "Facility scope" in dialog.microscope_edit.placeholderText()
    assert window.model.index(0, MICROSCOPE).data() == "My scope (this PC's default)"
    _set_microscope(qtbot, window, "")
    assert window.model.index(0, MICROSCOPE).data() == "Facility scope (this PC's default)"


def test_in_the_sandbox_settings_opens_for_the_microscope_with_the_server_fixed(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window(sandbox_token="demo")
    assert window.settings_action.isEnabled()
    window.settings_action.trigger()
    dialog = window.settings_dialog
    assert dialog.microscope_edit.isEnabled()
    assert not dialog.host_edit.isEnabled() and not dialog.web_edit.isEnabled()
    dialog.reject()
