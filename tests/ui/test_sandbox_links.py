"""In the training sandbox, Get token, double-click and Help lead somewhere real."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cci_uploader.cli.sandbox import describe_image
from cci_uploader.pipeline import Status
from cci_uploader.sandbox import DEMO_TOKEN, SandboxServer
from cci_uploader.ui.connecting import SANDBOX_TOKEN_NOTE
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import NAME
from tests.ui.uihelpers import CZI, Outside, Ready, add, connect, press, run_to_end, statuses


def _double_click(qtbot: QtBot, window: MainWindow, row: int) -> None:
    view = window.file_panel.view
    rect = view.visualRect(window.model.index(row, NAME))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_sandbox_get_token_explains_and_double_click_shows_what_the_standin_holds(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    outside: Outside,
    samples: Path,
    sandbox: SandboxServer,
) -> None:
    window = make_window(
        sandbox_token=DEMO_TOKEN, inspect_image=functools.partial(describe_image, sandbox)
    )
    press(qtbot, window.connection_bar.get_token_button)
    note = window.session.connecting.sandbox_note
    assert note is not None and note.isVisible()
    assert note.text() == SANDBOX_TOKEN_NOTE and "already filled in" in note.text()
    note.accept()
    assert outside.urls == []  # no localhost:4080 page that does not exist

    connect(qtbot, window, DEMO_TOKEN)
    add(qtbot, window, outside, samples / CZI, rows=1)
    editor = window.pairs_editor
    editor.value_combo.setEditText("Mouse 3")
    press(qtbot, editor.add_button)
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.UPLOADED]
    _double_click(qtbot, window, 0)
    dialog = window.image_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    [image] = sandbox.objects("Image")
    record = dialog.record
    assert record.image_id == image.getId().getValue()
    assert (record.project, record.dataset) == sandbox.location(record.image_id)
    assert [Path(f).name for f in record.files] == ["tiles_z.czi"]
    assert record.pairs == (("Sample", "Mouse 3"),)
    assert record.tags == ("Sample: Mouse 3",)
    text = dialog.text.text()
    assert "LSM 880 IndiMo, AxioObserver" in text and "Sample = Mouse 3" in text
    assert outside.urls == []


def test_against_a_real_server_the_links_open_omero_web(
    qtbot: QtBot,
    window: MainWindow,
    outside: Outside,
    samples: Path,
    ready: Ready,
) -> None:
    press(qtbot, window.connection_bar.get_token_button)
    assert outside.urls == [window.session.config.token_url]
    ready(window, samples / CZI, rows=1)
    run_to_end(qtbot, window, window.action_bar.import_button)
    _double_click(qtbot, window, 0)
    image_id = window.model.rows()[0].image_ids[0]
    assert outside.urls[-1] == f"{window.session.config.web_url}img_detail/{image_id}/"
