"""The OMERO group the batch goes into."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

if TYPE_CHECKING:
    from cci_uploader.omero import Group


class GroupPicker(QWidget):
    """A combo box of the user's groups, with the default group marked."""

    group_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(18)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setPlaceholderText("connect to list your groups")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Gro&up:")
        label.setBuddy(self.combo)
        layout.addWidget(label)
        layout.addWidget(self.combo, 1)
        self.combo.activated.connect(self._on_activated)
        self.set_groups([], None)

    def tab_chain(self) -> list[QWidget]:
        """Its controls in the order Tab visits them."""
        return [self.combo]

    def set_groups(self, groups: list[Group], preferred: int | None) -> None:
        """List ``groups``; select ``preferred`` if listed, else the default one."""
        self.combo.clear()
        for group in groups:
            label = f"{group.name} (default)" if group.is_default else group.name
            self.combo.addItem(label, group.id)
        ids = [g.id for g in groups]
        if preferred not in ids:
            preferred = next((g.id for g in groups if g.is_default), ids[0] if ids else None)
        self.combo.setEnabled(bool(groups))
        if preferred is not None:
            self.combo.setCurrentIndex(ids.index(preferred))
            self.group_chosen.emit(preferred)

    def current_group(self) -> int | None:
        """The selected group's id."""
        data = self.combo.currentData()
        return int(data) if data is not None else None

    def select(self, group_id: int) -> None:
        """Choose a group as the user would."""
        index = self.combo.findData(group_id)
        if index < 0:
            raise KeyError(group_id)
        self.combo.setCurrentIndex(index)
        self._on_activated(index)

    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data is not None:
            self.group_chosen.emit(int(data))
