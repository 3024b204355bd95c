"""Things going wrong, as the user sees them: red rows with readable messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from cci_uploader import logsetup
from cci_uploader.pipeline import Status
from cci_uploader.pipeline.steps import FileJob
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import COLOURS, STATUS, STATUS_ROLE
from cci_uploader.ui.session import EXPIRED_NOT_NOW
from tests.ui.uihelpers import (
    CZI,
    WAIT_MS,
    Copies,
    Outside,
    Ready,
    add,
    connect,
    press,
    run_to_end,
    statuses,
)


def _status_text(window: MainWindow, row: int = 0) -> str:
    return str(window.model.index(row, STATUS).data())


def _is_red(window: MainWindow, row: int = 0) -> bool:
    index = window.model.index(row, STATUS)
    return bool(index.data(Qt.ItemDataRole.BackgroundRole) == COLOURS[Status.ERROR])


def test_bad_token_is_a_red_readable_message_and_nothing_can_start(
    qtbot: QtBot, window: MainWindow, outside: Outside, samples: Path
) -> None:
    add(qtbot, window, outside, samples / CZI, rows=1)
    bar = window.connection_bar
    bar.token_edit.setText("not-a-real-token")
    press(qtbot, bar.connect_button)
    qtbot.waitUntil(lambda: "did not accept the token" in bar.state_label.text())
    assert "Not connected" in bar.state_label.text()
    assert "#b00020" in bar.state_label.styleSheet()  # red
    assert not window.action_bar.import_button.isEnabled()
    assert "Connect first" in window.action_bar.hint.text()
    assert statuses(window) == [Status.PENDING]


def test_server_side_error_ends_red_with_the_servers_reason(
    qtbot: QtBot,
    window: MainWindow,
    samples: Path,
    sandbox: SandboxServer,
    ready: Ready,
) -> None:
    ready(window, samples / CZI, rows=1)
    sandbox.faults.import_error = "Pixel data is truncated"
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.ERROR]
    assert _is_red(window)
    assert _status_text(window).startswith("Error: ")
    assert "Pixel data is truncated" in _status_text(window)
    assert sandbox.objects("Image") == []
    assert window.action_bar.retry_button.isEnabled()
    assert "1 with errors" in window.status_line.label.text()


def test_unsupported_file_alone_is_red_with_reason_but_left_out_of_folders(
    qtbot: QtBot,
    window: MainWindow,
    outside: Outside,
    tmp_path: Path,
    czi_copies: Copies,
) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    czi_copies(1, folder=folder)
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not microscopy")
    add(qtbot, window, outside, folder, rows=1)
    assert window.model.rows()[0].scan.path.name == "copy00.czi"
    add(qtbot, window, outside, folder / "notes.docx", rows=2)
    assert statuses(window) == [Status.PENDING, Status.ERROR]
    assert _is_red(window, 1)
    assert "not a supported microscope file" in _status_text(window, 1)


def test_session_expiry_pauses_asks_for_a_token_and_resumes_without_doubles(
    qtbot: QtBot,
    window: MainWindow,
    outside: Outside,
    sandbox: SandboxServer,
    token: str,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    paths = czi_copies(3)
    ready(window, *paths, rows=3)
    sandbox.faults.import_delay_s = 0.3  # each file takes a moment on the server

    def expire_after_first(top_left: QModelIndex, *_: object) -> None:
        if top_left.row() == 0 and top_left.data(STATUS_ROLE) == Status.UPLOADED:
            sandbox.expire(token)

    window.model.dataChanged.connect(expire_after_first)
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(
        lambda: (
            window.session.expiry.dialog is not None and window.session.expiry.dialog.isVisible()
        ),
        timeout=WAIT_MS,
    )
    window.model.dataChanged.disconnect(expire_after_first)
    dialog = window.session.expiry.dialog
    assert dialog is not None
    assert "session has expired" in dialog.message.text()
    # Paused: the list cannot change under the queue, and nothing else starts.
    qtbot.waitUntil(lambda: not window.session.running)
    assert window.action_bar.hint.text().startswith("Paused")
    assert not window.file_panel.clear_button.isEnabled()
    assert not window.action_bar.import_button.isEnabled()
    assert not window.action_bar.retry_button.isEnabled()
    press(qtbot, dialog.get_token_button)
    assert outside.urls == [window.session.config.token_url]
    assert statuses(window)[0] is Status.UPLOADED
    assert Status.QUEUED in statuses(window)
    assert "paused" in _status_text(window, statuses(window).index(Status.QUEUED))

    dialog.token_edit.setText(sandbox.new_token())
    press(qtbot, dialog.continue_button)
    qtbot.waitUntil(lambda: statuses(window) == [Status.UPLOADED] * 3, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.session.running)
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == ["copy00.czi", "copy01.czi", "copy02.czi"]


def test_session_expiry_refused_ends_red_and_retry_finishes(
    qtbot: QtBot,
    window: MainWindow,
    sandbox: SandboxServer,
    token: str,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    paths = czi_copies(2)
    ready(window, *paths, rows=2)
    sandbox.expire(token)
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(lambda: window.session.expiry.dialog is not None, timeout=WAIT_MS)
    dialog = window.session.expiry.dialog
    assert dialog is not None
    dialog.token_edit.setText("mistyped")
    press(qtbot, dialog.continue_button)
    # A wrong token: the dialog comes back saying so.
    qtbot.waitUntil(
        lambda: (
            window.session.expiry.dialog is not dialog and window.session.expiry.dialog is not None
        )
    )
    dialog = window.session.expiry.dialog
    assert "did not accept the token" in dialog.message.text()
    dialog.reject()
    assert statuses(window) == [Status.ERROR, Status.ERROR]
    assert all(_is_red(window, r) for r in range(2))
    assert _status_text(window) == f"Error: {EXPIRED_NOT_NOW}"
    assert not window.action_bar.import_button.isEnabled()

    connect(qtbot, window, sandbox.new_token())
    run_to_end(qtbot, window, window.action_bar.retry_button)
    assert statuses(window) == [Status.UPLOADED] * 2
    assert len(sandbox.objects("Image")) == 2


def test_cancel_leaves_no_half_image_and_import_again_finishes(
    qtbot: QtBot,
    window: MainWindow,
    sandbox: SandboxServer,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    paths = czi_copies(2, pad=32 * 1024 * 1024)
    ready(window, *paths, rows=2)
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(lambda: window.model.rows()[0].state.done_bytes > 0, timeout=WAIT_MS)
    press(qtbot, window.action_bar.cancel_button)
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    # The file being uploaded when Cancel was pressed is not imported, nor anything after it.
    ended = statuses(window)
    assert ended[-1] is Status.PENDING
    assert set(ended) <= {Status.UPLOADED, Status.PENDING}
    cancelled = ended.index(Status.PENDING)
    assert "cancel" in _status_text(window, cancelled)
    assert len(sandbox.objects("Image")) == ended.count(Status.UPLOADED)
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.UPLOADED] * 2
    assert len(sandbox.objects("Image")) == 2


# Outside pytest this warning is not an error; the queue must still end (see tasks._shielded).
@pytest.mark.filterwarnings("ignore:RuntimeError in aborted thread")
def test_an_unexpected_error_ends_red_and_points_to_the_log(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    """A bug in the queue (not an OMERO or file error): no row is left cyan or yellow."""

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(FileJob, "convert", broken)
    ready(window, *czi_copies(2), rows=2)
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.ERROR, Status.ERROR]
    # One file, one failure: the per-file boundary makes each row red with its own line.
    assert _status_text(window) == (
        "Error: An unexpected error (RuntimeError): copy00.czi could not be uploaded. "
        f"Details are in the log file: {logsetup.log_file()}"
    )
    assert "a bug" in caplog.text


def test_wrong_token_while_connected_is_an_error_not_green(
    qtbot: QtBot, window: MainWindow, token: str
) -> None:
    connect(qtbot, window, token)
    bar = window.connection_bar
    assert "#1b7a1b" in bar.state_label.styleSheet()  # green while it works
    bar.token_edit.setText("mistyped")
    press(qtbot, bar.connect_button)
    qtbot.waitUntil(lambda: "did not accept the token" in bar.state_label.text())
    assert "Still connected as demo" in bar.state_label.text()
    assert "#b00020" in bar.state_label.styleSheet()  # red: the Connect failed
    assert "#1b7a1b" not in bar.state_label.styleSheet()
    assert window.session.conn is not None  # the earlier session keeps working
