"""Draws rows so their status colour survives selection, and Progress as a bar."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

ROW_HEIGHT = 22
MIN_CELL_WIDTH = 90  # wide enough for "100 %"
SELECTION_TINT = QColor(31, 78, 121, 45)
SELECTION_EDGE = QColor(31, 78, 121)


class RowDelegate(QStyledItemDelegate):
    """Keeps the status colour of a selected row visible: a tint, not a solid highlight.

    Cells whose text is ``NN %`` are drawn as a progress bar.
    """

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Paint the row colour and text (or bar), then the selection tint."""
        plain = QStyleOptionViewItem(option)
        selected = bool(plain.state & QStyle.StateFlag.State_Selected)
        plain.state &= ~QStyle.StateFlag.State_Selected
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if isinstance(text, str) and text.endswith("%"):
            self._paint_bar(painter, plain, index, text)
        else:
            super().paint(painter, plain, index)
        if selected:
            rect = option.rect
            painter.fillRect(rect, SELECTION_TINT)
            painter.fillRect(rect.x(), rect.bottom() - 1, rect.width(), 2, SELECTION_EDGE)

    @staticmethod
    def _paint_bar(
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        text: str,
    ) -> None:
        background = index.data(Qt.ItemDataRole.BackgroundRole)
        if background is not None:
            painter.fillRect(option.rect, background)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 2, -2, -2)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(text.rstrip(" %"))
        bar.text = text
        bar.textVisible = True
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Wide enough for ``100 %``, tall enough for the bar's text."""
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), MIN_CELL_WIDTH), max(hint.height(), ROW_HEIGHT))
