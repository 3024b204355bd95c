"""Key-value pairs for every image of the batch."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cci_uploader.ui.dialogs.remembered import ask_use_remembered

if TYPE_CHECKING:
    from collections.abc import Callable

REMEMBERED = (
    "Remembered from your last session: check these pairs fit this batch, "
    "or remove them. They are applied only when you press Import."
)


class PairsEditor(QWidget):
    """Pick a key, type or pick a value, Add pair; each pair has a Remove button.

    The value field offers the values already used for the key in the chosen
    group; the window loads them in the background and calls :meth:`set_values`.
    """

    key_changed = Signal(str)
    pairs_changed = Signal()
    rendered = Signal()  # the list of pairs was built again (new Remove buttons)

    def __init__(self, keys: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.remembered_box: QMessageBox | None = None  # the question asked on Import
        self._pairs: list[tuple[str, str]] = []
        self._remembered = False  # the pairs came from the last session, untouched since
        self.key_combo = QComboBox()
        self.key_combo.addItems(list(dict.fromkeys(["Sample", *keys])))
        self.key_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.value_combo = QComboBox()
        self.value_combo.setEditable(True)
        self.value_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.value_combo.setMinimumContentsLength(20)
        self.value_edit = self.value_combo.lineEdit()
        assert self.value_edit is not None  # editable combos have one
        self.value_edit.setPlaceholderText("Type a value or pick one")
        completer = self.value_combo.completer()
        assert completer is not None
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_button = QPushButton("&Add pair")
        self.add_button.setToolTip("Add this key and value to the list below (or press Enter)")
        self.values_note = QLabel()
        self.values_note.setStyleSheet("color: #555555;")
        self.values_note.setWordWrap(True)
        self.remembered_note = QLabel(REMEMBERED)
        self.remembered_note.setWordWrap(True)
        self.remembered_note.setStyleSheet("color: #8a4b00; font-weight: bold;")
        self.remembered_note.hide()
        self.list_area = QWidget()
        self.list_layout = QGridLayout(self.list_area)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        # Many pairs scroll inside the box instead of pushing the file list off a small screen.
        self.list_scroll = QScrollArea()
        self.list_scroll.setWidget(self.list_area)
        self.list_scroll.setWidgetResizable(True)
        self.list_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.list_scroll.setMaximumHeight(100)
        self.list_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._remove_buttons: list[QPushButton] = []

        row = QHBoxLayout()
        key_label = QLabel("&Key:")
        key_label.setBuddy(self.key_combo)
        value_label = QLabel("&Value:")
        value_label.setBuddy(self.value_combo)
        row.addWidget(key_label)
        row.addWidget(self.key_combo)
        row.addWidget(value_label)
        row.addWidget(self.value_combo, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.values_note)
        layout.addWidget(self.remembered_note)
        layout.addWidget(self.list_scroll)

        self.key_combo.currentTextChanged.connect(self._on_key_combo_changed)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.value_edit.returnPressed.connect(self._on_add_clicked)
        self._render()

    # -- state ----------------------------------------------------------

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs, in the order they were added."""
        return list(self._pairs)

    def set_pairs(self, pairs: list[tuple[str, str]], remembered: bool = False) -> None:
        """Show ``pairs``; ``remembered`` ones (from the last session) are marked as such."""
        self._pairs = []
        for key, value in pairs:
            if key.strip() and value.strip():
                self._put(key.strip(), value.strip())
        self._remembered = remembered and bool(self._pairs)
        self._render()

    def typed(self) -> tuple[str, str] | None:
        """A value typed (or picked) but not yet added, with its key."""
        key, value = self.current_key().strip(), self.value_combo.currentText().strip()
        if not key or not value or (key, value) in self._pairs:
            return None
        return key, value

    def add_typed(self) -> tuple[str, str] | None:
        """Add what is typed in the value field, as Add pair would; return it if any."""
        pair = self.typed()
        if pair is not None:
            self._on_add_clicked()
        return pair

    def mark_used(self) -> None:
        """The pairs went into a batch: they are no longer only remembered."""
        if self._remembered:
            self._remembered = False
            self._render()

    @property
    def remembered(self) -> bool:
        """Whether the pairs shown are the last session's, not yet looked at."""
        return self._remembered

    def confirm_remembered(self, then: Callable[[], None]) -> None:
        """Call ``then`` once the pairs may be used: remembered ones are never used unnoticed."""
        if not self._remembered:
            then()
            return
        self.remembered_box = ask_use_remembered(
            self.window(), self.pairs(), lambda use: self._on_remembered_answered(use, then)
        )

    def _on_remembered_answered(self, use: bool, then: Callable[[], None]) -> None:
        if use:
            self.mark_used()
            then()
        else:
            self.value_combo.setFocus()

    def take(self) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
        """The pairs for an Import, and the pair typed but not added (added now), if any."""
        added = self.add_typed()
        self.mark_used()
        return self.pairs(), added

    def _put(self, key: str, value: str) -> str:
        """Add or replace ``key``; return a word on what happened."""
        for number, (old_key, old_value) in enumerate(self._pairs):
            if old_key == key:
                self._pairs[number] = (key, value)
                return f"{key} was {old_value}; it is now {value} (one value per key)."
        self._pairs.append((key, value))
        return ""

    def tab_chain(self) -> list[QWidget]:
        """Its controls in the order Tab visits them."""
        return [self.key_combo, self.value_combo, self.add_button, *self._remove_buttons]

    def remove_buttons(self) -> list[QPushButton]:
        """The Remove button of each pair, in order."""
        return list(self._remove_buttons)

    def current_key(self) -> str:
        """The key in the key picker."""
        return self.key_combo.currentText()

    def set_values(self, key: str, values: list[str]) -> None:
        """Offer ``values`` for ``key`` (ignored if the user moved to another key)."""
        if key != self.current_key():
            return
        text = self.value_combo.currentText()
        self.value_combo.clear()
        self.value_combo.addItems(values)
        self.value_combo.setEditText(text)
        self.values_note.setText(
            f"{len(values)} value(s) already used for {key} in this group: open the list."
            if values
            else f"No values used for {key} in this group yet."
        )

    def set_values_unavailable(self, reason: str) -> None:
        """Say why no existing values are offered."""
        self.value_combo.clear()
        self.values_note.setText(reason)

    # -- slots ----------------------------------------------------------

    def _on_key_combo_changed(self, key: str) -> None:
        self.value_combo.clear()
        self.values_note.setText("")
        self.key_changed.emit(key)

    def _on_add_clicked(self) -> None:
        key, value = self.current_key().strip(), self.value_combo.currentText().strip()
        if not key or not value:
            self.values_note.setText("Type or pick a value first.")
            return
        note = self._put(key, value)
        self._remembered = False
        self.value_combo.setEditText("")
        self._render()
        if note:
            self.values_note.setText(note)
        self.pairs_changed.emit()

    def _on_remove_clicked(self, pair: tuple[str, str]) -> None:
        self._pairs.remove(pair)
        self._remembered = self._remembered and bool(self._pairs)
        self._render()
        self.pairs_changed.emit()

    def _render(self) -> None:
        self._remove_buttons = []
        while (item := self.list_layout.takeAt(0)) is not None:
            if widget := item.widget():
                widget.hide()
                widget.deleteLater()
        self.remembered_note.setVisible(self._remembered)
        if not self._pairs:
            hint = QLabel("No pairs yet: every image of the batch gets the pairs listed here.")
            hint.setStyleSheet("color: #555555;")
            self.list_layout.addWidget(hint, 0, 0, 1, 2)
            self.rendered.emit()
            return
        for number, (key, value) in enumerate(self._pairs):
            text = f"<b>{html.escape(key)}</b> = {html.escape(value)}"
            if self._remembered:
                text += " <i>(from your last session)</i>"
            label = QLabel(text)
            label.setTextFormat(Qt.TextFormat.RichText)
            remove = QPushButton("Remove")
            remove.setToolTip(f"Remove {key} = {value} from this batch")
            remove.setObjectName(f"remove:{key}={value}")
            remove.clicked.connect(lambda _=False, p=(key, value): self._on_remove_clicked(p))
            self.list_layout.addWidget(label, number, 0)
            self.list_layout.addWidget(remove, number, 1)
            self._remove_buttons.append(remove)
        self.list_layout.setColumnStretch(2, 1)
        self.rendered.emit()
