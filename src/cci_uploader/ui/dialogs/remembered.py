"""Asks, on Import, before the last session's pairs go onto this batch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:
    from collections.abc import Callable


def ask_use_remembered(
    parent: QWidget, pairs: list[tuple[str, str]], answered: Callable[[bool], None]
) -> QMessageBox:
    """Open the question (Go back is the default); ``answered(True)`` means use them."""
    lines = "\n".join(f"    {key} = {value}" for key, value in pairs) or "    (none)"
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Use the pairs from your last session?",
        "Every image of this batch will get the pairs remembered from your last "
        f"session:\n\n{lines}\n\nUse them, or go back and change them?",
        parent=parent,
    )
    use = box.addButton("Use them", QMessageBox.ButtonRole.AcceptRole)
    back = box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(back)
    box.buttonClicked.connect(lambda button: answered(button is use))
    box.open()
    return box
