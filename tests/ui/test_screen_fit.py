"""The window fits microscope-PC screens, and can be used from the keyboard."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from cci_uploader.ui.main_window import PREFERRED, MainWindow
from cci_uploader.ui.settings import AppSettings

FITCHECK = Path(__file__).with_name("fitcheck.py")


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(1280, 720, "1"), (1366, 768, "1"), (1920, 1080, "1.5"), (1920, 1080, "1")],
)
def test_every_control_is_on_screen_and_uncut(
    width: int, height: int, scale: str, samples: Path
) -> None:
    """The real window, three pairs, rows and the lost-connection box on a screen this size."""
    done = subprocess.run(
        [sys.executable, str(FITCHECK), str(width), str(height), scale, str(samples)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n{width}x{height} at {scale}x: {result}")
    assert result["problems"] == []
    small = width / float(scale) < PREFERRED[0] + 40 or height / float(scale) < PREFERRED[1] + 60
    assert result["maximised"] is small


def test_size_and_place_are_remembered_per_user(
    qtbot: QtBot, make_window: Callable[..., MainWindow], settings: AppSettings
) -> None:
    first = make_window()
    first.showNormal()
    qtbot.waitUntil(lambda: not first.isMaximized())
    first.setGeometry(QRect(4, 30, 790, 540))
    qtbot.waitUntil(lambda: first.geometry() == QRect(4, 30, 790, 540))
    first.close()
    assert settings.window_geometry()
    again = make_window()
    assert again.geometry() == QRect(4, 30, 790, 540)
    assert not again.isMaximized()


def test_a_remembered_place_off_this_screen_is_not_used(
    qtbot: QtBot, settings: AppSettings, tmp_path: Path, make_window: Callable[..., MainWindow]
) -> None:
    first = make_window()
    first.showNormal()
    qtbot.waitUntil(lambda: not first.isMaximized())
    first.setGeometry(QRect(5000, 4000, 790, 540))  # a second monitor, since unplugged
    first.close()
    again = make_window()
    available = again.screen().availableGeometry()
    assert available.contains(again.frameGeometry().center())


def _focus_chain(window: MainWindow) -> list[QWidget]:
    first = window.connection_bar.get_token_button
    chain, widget = [first], first.nextInFocusChain()
    while widget is not first and len(chain) < 500:
        if (
            widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.window() is window
        ):
            chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def test_tab_order_follows_the_screen(
    qtbot: QtBot, make_window: Callable[..., MainWindow], settings: AppSettings
) -> None:
    settings.set_last_pairs([("Sample", "Mouse 7"), ("Operator", "kim")])
    window = make_window()
    window.resize(1280, 700)
    editor = window.pairs_editor
    editor.value_combo.setEditText("B4")
    editor.key_combo.setCurrentText("Operator")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)  # rebuilds the pair list
    removes = editor.remove_buttons()
    assert len(removes) == 2
    qtbot.waitUntil(lambda: all(b.isVisible() for b in removes))
    chain = _focus_chain(window)
    expected = [
        window.connection_bar.get_token_button,
        window.connection_bar.token_edit,
        window.connection_bar.connect_button,
        editor.key_combo,
        editor.value_combo,
        editor.add_button,
        *removes,
        window.file_panel.add_files_button,
        window.file_panel.add_folder_button,
        window.file_panel.clear_button,
        window.file_panel.view,
    ]
    assert [w for w in chain if w in expected] == expected
    # Reading order: each control is below the one before, or on its line and to its right.
    centres = [w.mapTo(window, w.rect().center()) for w in expected]
    for (a, b), before, after in zip(
        itertools.pairwise(centres), expected, expected[1:], strict=False
    ):
        assert b.y() > a.y() + 4 or (abs(b.y() - a.y()) <= 12 and b.x() > a.x()), (
            f"Tab goes from {before.objectName() or type(before).__name__} to "
            f"{after.objectName() or type(after).__name__} against the reading order"
        )


def test_focus_ring_is_drawn_around_the_focused_control(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    import_button = window.action_bar.import_button
    button = window.file_panel.add_files_button
    button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: window.focus_ring.isVisible())
    ring = window.focus_ring.geometry()
    place = QRect(button.mapTo(window, button.rect().topLeft()), button.size())
    assert ring.contains(place) and ring != place  # around it, not under it
    assert not import_button.hasFocus()


def _mnemonic(text: str) -> str | None:
    match = re.search(r"&([^&])", text)
    return match.group(1).lower() if match else None


def test_no_two_controls_or_menus_share_an_alt_letter(
    window: MainWindow, settings: AppSettings, tmp_path: Path
) -> None:
    window.pause_banner.show_paused("The connection to OMERO was lost.")
    letters: dict[str, str] = {}
    texts = [a.text() for a in window.menuBar().actions()]
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QAbstractButton | QLabel) and widget.isVisible():
            texts.append(widget.text())
    for text in texts:
        letter = _mnemonic(text)
        if letter is None:
            continue
        assert letter not in letters, f"Alt+{letter} is both {letters[letter]!r} and {text!r}"
        letters[letter] = text
    assert {"s", "h", "p", "i"} <= letters.keys()  # Settings, History, Help, Import


def test_stop_uploading_question_defaults_to_no(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.session.running = True  # as while a queue runs
    asked = []

    def answer_with_enter() -> None:
        box = window.stop_box
        asked.append(box.defaultButton() is box.button(box.StandardButton.No))
        qtbot.keyClick(box, Qt.Key.Key_Return)

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, answer_with_enter)
    window.close()
    assert asked == [True]
    assert window.isVisible()  # Enter kept it running
    window.session.running = False
    QApplication.processEvents()
