"""The pairs editor never drops what the user typed, and never applies old pairs unnoticed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from cci_uploader.omero import CLIENT_NS
from cci_uploader.pipeline import Status
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.settings import AppSettings
from cci_uploader.ui.widgets.pairs_editor import REMEMBERED
from tests.ui.uihelpers import CZI, WAIT_MS, Ready, press, run_to_end, statuses


def _pairs_on_server(sandbox: SandboxServer) -> list[list[tuple[str, str]]]:
    return [
        [(nv.name, nv.value) for nv in a.getMapValue()]
        for a in sandbox.objects("MapAnnotation")
        if a.getNs().getValue() == CLIENT_NS  # not the read-only acquisition pairs
    ]


def test_a_typed_value_not_added_goes_up_with_the_images(
    qtbot: QtBot,
    window: MainWindow,
    samples: Path,
    sandbox: SandboxServer,
    ready: Ready,
) -> None:
    ready(window, samples / CZI, rows=1)
    window.pairs_editor.value_combo.setEditText("Mouse 12")  # typed, Add pair never pressed
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.UPLOADED]
    assert _pairs_on_server(sandbox) == [[("Sample", "Mouse 12")]]
    assert window.pairs_editor.pairs() == [("Sample", "Mouse 12")]
    assert "Added the typed pair Sample = Mouse 12" in window.status_line.note.text()


def test_the_same_key_twice_replaces_the_value_and_says_so(
    qtbot: QtBot, window: MainWindow
) -> None:
    editor = window.pairs_editor
    for value in ("Mouse 7", "Mouse 8"):
        editor.value_combo.setEditText(value)
        press(qtbot, editor.add_button)
    assert editor.pairs() == [("Sample", "Mouse 8")]
    assert "Sample was Mouse 7; it is now Mouse 8" in editor.values_note.text()


def test_remembered_pairs_are_marked_and_import_asks_before_using_them(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    settings: AppSettings,
    samples: Path,
    sandbox: SandboxServer,
    ready: Ready,
) -> None:
    settings.set_last_pairs([("Sample", "Old mouse")])
    window = make_window()
    editor = window.pairs_editor
    assert editor.remembered
    assert editor.remembered_note.isVisible() and editor.remembered_note.text() == REMEMBERED
    [label] = [
        w.text()
        for w in editor.list_area.findChildren(type(editor.remembered_note))
        if "Old" in w.text()
    ]
    assert "from your last session" in label
    ready(window, samples / CZI, rows=1)

    press(qtbot, window.action_bar.import_button)
    box = window.pairs_editor.remembered_box
    assert box is not None and box.isVisible()
    assert "Sample = Old mouse" in box.text()
    assert box.defaultButton().text() == "Go back"
    box.defaultButton().click()  # Go back: nothing starts
    assert not window.session.running and sandbox.objects("Image") == []

    press(qtbot, window.action_bar.import_button)
    box = window.pairs_editor.remembered_box
    assert box is not None
    [use] = [b for b in box.buttons() if b.text() == "Use them"]
    use.click()
    qtbot.waitUntil(lambda: statuses(window) == [Status.UPLOADED], timeout=WAIT_MS)
    assert _pairs_on_server(sandbox) == [[("Sample", "Old mouse")]]
    assert not editor.remembered and not editor.remembered_note.isVisible()


def test_touching_the_remembered_pairs_counts_as_looking_at_them(
    qtbot: QtBot, make_window: Callable[..., MainWindow], settings: AppSettings
) -> None:
    settings.set_last_pairs([("Sample", "Old mouse"), ("Operator", "kim")])
    window = make_window()
    editor = window.pairs_editor
    editor.value_combo.setEditText("New mouse")
    press(qtbot, editor.add_button)
    assert editor.pairs() == [("Sample", "New mouse"), ("Operator", "kim")]
    assert not editor.remembered
