"""The window's training sandbox keeps its own history, settings and cache."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from cci_uploader.cli.sandbox import training_for
from cci_uploader.config import Config
from cci_uploader.pipeline import Status
from cci_uploader.sandbox import DEMO_TOKEN, SandboxServer
from cci_uploader.stewardship.history import history_path
from cci_uploader.stewardship.removal import Action, remove_local_copies
from cci_uploader.ui.app import _workspace, build_window
from cci_uploader.ui.settings import AppSettings
from cci_uploader.workspace import user_workspace
from tests.ui.uihelpers import press, run_to_end, statuses


def test_nothing_done_in_the_sandbox_reaches_the_users_history_pairs_or_group(
    qtbot: QtBot,
    training_sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
) -> None:
    mine = user_workspace()
    with _workspace(True) as workspace:  # what `gui --sandbox` and the Start-menu entry use
        assert workspace.throwaway and not workspace.settings_path.is_relative_to(
            mine.settings_path.parent
        )
        settings = AppSettings(workspace.settings_path)
        window = build_window(
            Config(), settings, tmp_path / "log", training_for(training_sandbox), workspace
        )
        qtbot.addWidget(window)
        window.show()
        try:
            press(qtbot, window.connection_bar.connect_button)
            qtbot.waitUntil(lambda: "Connected as demo" in window.connection_bar.state_label.text())
            qtbot.waitUntil(lambda: not window.session.tasks.busy)
            window.pairs_editor.value_combo.setEditText("training")
            press(qtbot, window.pairs_editor.add_button)
            window.session.add_paths([samples / "sem_tif"])
            qtbot.waitUntil(lambda: window.model.rowCount() == 2 and not window.session.scanning)
            run_to_end(qtbot, window, window.action_bar.import_button)
            assert statuses(window) == [Status.UPLOADED] * 2
            uploads = workspace.history.uploads()
            assert len(uploads) == 2
            conn = window.session.conn
            assert conn is not None and conn.is_sandbox
            # "Remove local copies" in the History window runs exactly this.
            outcomes = list(remove_local_copies(conn, workspace.history, uploads))
            assert [o.action for o in outcomes] == [Action.KEPT] * 2
            assert {o.reason for o in outcomes} == {
                "the training sandbox is not a copy anyone can rely on"
            }
            assert ("Sample", "training") in AppSettings(workspace.settings_path).last_pairs()
        finally:
            window.session.shutdown()
            window.close()
        folder = workspace.settings_path.parent
        assert folder.is_dir()
    assert not folder.exists()  # thrown away with the sandbox
    assert not history_path().exists()
    assert not mine.settings_path.exists()
    assert not (mine.cache_dir / "converted").exists()


def test_the_normal_window_pointed_at_the_sandbox_records_nothing_either(
    qtbot: QtBot,
    training_sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
) -> None:
    settings = AppSettings(tmp_path / "gui.ini")
    config = Config(server=training_sandbox.address)
    window = build_window(config, settings, tmp_path / "log", None)  # the user's workspace
    qtbot.addWidget(window)
    window.show()
    try:
        window.connection_bar.token_edit.setText(DEMO_TOKEN)
        press(qtbot, window.connection_bar.connect_button)
        qtbot.waitUntil(lambda: "Connected as demo" in window.connection_bar.state_label.text())
        qtbot.waitUntil(lambda: not window.session.tasks.busy)
        window.session.add_paths([samples / "sem_tif"])
        qtbot.waitUntil(lambda: window.model.rowCount() == 2 and not window.session.scanning)
        run_to_end(qtbot, window, window.action_bar.import_button)
        assert statuses(window) == [Status.UPLOADED] * 2
    finally:
        window.session.shutdown()
        window.close()
    assert window.workspace.history.path == history_path()
    assert not history_path().exists()
