"""The rest of the window: sandbox mode, menus, settings, drag and drop, start-up."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cci_uploader.cli import build_parser
from cci_uploader.cli.sandbox import training_for
from cci_uploader.config import Config
from cci_uploader.omero import CLIENT_NS
from cci_uploader.pipeline import Status
from cci_uploader.sandbox import DEMO_TOKEN, SandboxServer
from cci_uploader.ui.app import build_window
from cci_uploader.ui.dialogs.settings import SettingsDialog, join_server, split_server
from cci_uploader.ui.main_window import USER_GUIDE, MainWindow
from cci_uploader.ui.settings import AppSettings
from cci_uploader.ui.widgets.banner import SANDBOX_TEXT
from tests.ui.uihelpers import Outside, add, connect, press, run_to_end, statuses


def test_sandbox_mode_banner_prefilled_token_and_a_working_import(
    qtbot: QtBot,
    sandbox: SandboxServer,
    settings: AppSettings,
    samples: Path,
    tmp_path: Path,
) -> None:
    window = build_window(Config(), settings, tmp_path / "log", training_for(sandbox))
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.banner is not None and window.banner.isVisible()
        assert (
            window.banner.text() == SANDBOX_TEXT == "Training sandbox: nothing leaves this computer"
        )
        assert window.connection_bar.token_edit.text() == DEMO_TOKEN
        assert sandbox.address in window.connection_bar.server_label.text()
        press(qtbot, window.connection_bar.connect_button)  # nothing typed: the demo token
        qtbot.waitUntil(lambda: "Connected as demo" in window.connection_bar.state_label.text())
        assert window.group_picker.combo.count() == 4  # one group per permission level
        window.pairs_editor.value_combo.setEditText("first try")
        press(qtbot, window.pairs_editor.add_button)
        window.session.add_paths([samples / "sem_tif"])
        qtbot.waitUntil(lambda: window.model.rowCount() == 2 and not window.session.scanning)
        run_to_end(qtbot, window, window.action_bar.import_button)
        assert statuses(window) == [Status.UPLOADED] * 2
        kv = [
            a.getMapValue()
            for a in sandbox.objects("MapAnnotation")
            if a.getNs().getValue() == CLIENT_NS
        ]
        assert [(nv.name, nv.value) for nv in kv[0]] == [
            ("Sample", "first try"),
            ("Folder", "sem_tif"),
        ]
    finally:
        window.session.shutdown()


def test_menus_token_page_guide_history_and_diagnostics_without_the_token(
    qtbot: QtBot, window: MainWindow, outside: Outside, token: str, tmp_path: Path
) -> None:
    connect(qtbot, window, token)
    press(qtbot, window.connection_bar.get_token_button)
    assert outside.urls == [window.session.config.token_url]
    window.guide_action.trigger()
    guide = window.guide_window
    assert guide is not None
    qtbot.waitUntil(guide.isVisible)
    shown = guide.browser.toPlainText()
    assert USER_GUIDE.is_file()
    assert "Add pair" in shown and "Reconnect" in shown
    assert "**" not in shown and "](" not in shown  # rendered, not raw Markdown
    assert outside.urls == [window.session.config.token_url]  # no browser for the guide
    guide.close()
    window.history_action.trigger()
    assert outside.history_shown == 1

    window.about_action.trigger()
    about = window.about_dialog
    qtbot.waitUntil(about.isVisible)
    QGuiApplication.clipboard().clear()
    press(qtbot, about.copy_button)
    copied = QGuiApplication.clipboard().text()
    assert "CCI OMERO Uploader" in copied
    assert "PySide6" in copied and "omero-py" in copied
    assert f"Log file: {tmp_path / 'logs' / 'cci-uploader.log'}" in copied
    assert token not in copied
    about.reject()


def test_settings_are_remembered_in_the_isolated_qsettings_file(
    qtbot: QtBot,
    settings: AppSettings,
    tmp_path: Path,
    make_window: Callable[..., MainWindow],
) -> None:
    assert Path(settings.qsettings.fileName()) == tmp_path / "qsettings" / "gui.ini"
    assert split_server("tcp://127.0.0.1:4063") == ("tcp://127.0.0.1", 4063)
    assert split_server("omero.example.org") == ("omero.example.org", 0)
    assert join_server("omero.example.org", 0) == "omero.example.org"
    dialog = SettingsDialog("omero.example.org", "https://w/", "https://t/")
    qtbot.addWidget(dialog)
    dialog.port_spin.setValue(4064)
    assert dialog.values() == ("omero.example.org:4064", "https://w/", "https://t/")

    settings.save_overrides("omero.example.org:4064", "https://w/", "https://t/")
    applied = AppSettings(tmp_path / "qsettings" / "gui.ini").apply_overrides(Config())
    assert (applied.server, applied.web_url, applied.token_url) == (
        "omero.example.org:4064",
        "https://w/",
        "https://t/",
    )
    text = (tmp_path / "qsettings" / "gui.ini").read_text()
    assert "omero.example.org" in text

    window = make_window()
    window.session.apply_settings("other.example.org", "https://w2/", "https://t2/")
    assert "other.example.org" in window.connection_bar.server_label.text()


def test_files_and_folders_dropped_on_the_window_are_listed(
    qtbot: QtBot, window: MainWindow, samples: Path
) -> None:
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(samples / "tia")),
            QUrl.fromLocalFile(str(samples / "czi/tiles_z.czi")),
        ]
    )
    point = QPointF(window.rect().center())
    enter = QDragEnterEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3 and not window.session.scanning)
    names = sorted(r.scan.path.name for r in window.model.rows())
    assert names == [
        "128x128_TEM_acquire-sum1.emi",
        "64x64_TEM_images_acquire.emi",
        "tiles_z.czi",
    ]


def test_adding_the_same_folder_twice_lists_it_once(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path
) -> None:
    add(qtbot, window, outside, samples / "emd", rows=3)
    add(qtbot, window, outside, samples / "emd", rows=3)
    assert "0 file(s) added" in window.status_line.label.text()


def test_the_cli_gui_command_starts_the_sandbox_window_and_paints(
    _isolated_dirs: Path, tmp_path: Path
) -> None:
    """``cci-uploader gui --sandbox``, as ``./dev.sh start`` runs it, up to its first paint."""
    assert "gui" in build_parser().format_help()
    exe = Path(sys.executable).with_name("cci-uploader")
    log_file = _isolated_dirs / "logs" / "cci-uploader.log"
    env = {**dict(__import__("os").environ), "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    with subprocess.Popen(
        [str(exe), "gui", "--sandbox"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as proc:
        try:
            deadline = started + 60
            while time.perf_counter() < deadline and proc.poll() is None:
                if log_file.exists() and "first paint" in log_file.read_text():
                    break
                time.sleep(0.02)
            assert proc.poll() is None, "the window closed by itself"
            text = log_file.read_text()
            assert "training sandbox on tcp://127.0.0.1:" in text
            assert "first paint" in text
        finally:
            proc.terminate()
    print(f"\nstart to first paint (subprocess, offscreen): {time.perf_counter() - started:.2f} s")


def test_the_core_and_cli_never_import_qt() -> None:
    code = (
        "import sys, cci_uploader.cli, cci_uploader.pipeline, cci_uploader.scan; "
        "cci_uploader.cli.build_parser(); "
        "qt = ('PySide6', 'superqt', 'cci_uploader.ui.'); "
        "print(sorted(m for m in sys.modules if m.startswith(qt)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_history_menu_opens_the_history_window(
    qtbot: QtBot, sandbox: SandboxServer, settings: AppSettings, tmp_path: Path
) -> None:
    window = MainWindow(Config(server=sandbox.address), settings, tmp_path / "log")
    qtbot.addWidget(window)
    window.history_action.trigger()
    qtbot.waitUntil(window.history_window.isVisible)
    assert window.history_window.parent() is window
    window.history_window.close()
    window.session.shutdown()
