"""Key-value pairs for every image of the batch."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class PairsEditor(QWidget):
    """Pick a key, type or pick a value, Add pair; each pair has a Remove button.

    The value field offers the values already used for the key in the chosen
    group; the window loads them in the background and calls :meth:`set_values`.
    """

    key_changed = Signal(str)
    pairs_changed = Signal()

    def __init__(self, keys: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pairs: list[tuple[str, str]] = []
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
        self.add_button = QPushButton("Add pair")
        self.values_note = QLabel()
        self.values_note.setStyleSheet("color: #555555;")
        self.list_area = QWidget()
        self.list_layout = QGridLayout(self.list_area)
        self.list_layout.setContentsMargins(0, 0, 0, 0)

        row = QHBoxLayout()
        row.addWidget(QLabel("Key:"))
        row.addWidget(self.key_combo)
        row.addWidget(QLabel("Value:"))
        row.addWidget(self.value_combo, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.values_note)
        layout.addWidget(self.list_area)

        self.key_combo.currentTextChanged.connect(self._on_key_combo_changed)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.value_edit.returnPressed.connect(self._on_add_clicked)
        self._render()

    # -- state ----------------------------------------------------------

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs, in the order they were added."""
        return list(self._pairs)

    def set_pairs(self, pairs: list[tuple[str, str]]) -> None:
        """Show ``pairs`` (the remembered ones at start-up)."""
        self._pairs = list(dict.fromkeys((k.strip(), v.strip()) for k, v in pairs if k and v))
        self._render()

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
        if (key, value) not in self._pairs:
            self._pairs.append((key, value))
        self.value_combo.setEditText("")
        self._render()
        self.pairs_changed.emit()

    def _on_remove_clicked(self, pair: tuple[str, str]) -> None:
        self._pairs.remove(pair)
        self._render()
        self.pairs_changed.emit()

    def _render(self) -> None:
        while (item := self.list_layout.takeAt(0)) is not None:
            if widget := item.widget():
                widget.hide()
                widget.deleteLater()
        if not self._pairs:
            hint = QLabel("No pairs yet: every image of the batch gets the pairs listed here.")
            hint.setStyleSheet("color: #555555;")
            self.list_layout.addWidget(hint, 0, 0, 1, 2)
            return
        for number, (key, value) in enumerate(self._pairs):
            label = QLabel(f"<b>{html.escape(key)}</b> = {html.escape(value)}")
            label.setTextFormat(Qt.TextFormat.RichText)
            remove = QPushButton("Remove")
            remove.setObjectName(f"remove:{key}={value}")
            remove.clicked.connect(lambda _=False, p=(key, value): self._on_remove_clicked(p))
            self.list_layout.addWidget(label, number, 0)
            self.list_layout.addWidget(remove, number, 1)
        self.list_layout.setColumnStretch(2, 1)
