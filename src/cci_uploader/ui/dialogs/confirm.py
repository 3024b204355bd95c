"""The explicit confirmation every deletion needs; tests pass their own answer."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

Confirm = Callable[[QWidget, str, str, str], bool]


def ask(parent: QWidget, title: str, text: str, action: str) -> bool:
    """Show ``text`` and return True only if the user presses the ``action`` button."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    do = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is do
