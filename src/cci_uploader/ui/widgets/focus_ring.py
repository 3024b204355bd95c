"""A focus ring that every style shows: keyboard users always see where they are."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QWidget

RING = QColor("#1f6fd1")
WIDTH = 2


class FocusRing(QWidget):
    """Draws a 2-pixel ring around the focused widget of ``window``.

    Styled buttons (the bold Import button) and some platform styles draw no
    focus frame of their own; this one sits on top and lets mouse clicks through.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._window = window
        self.target: QWidget | None = None
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._on_focus_changed)
        self.hide()

    def _on_focus_changed(self, _: QWidget | None, now: QWidget | None) -> None:
        if self.target is not None:
            self.target.removeEventFilter(self)
        self.target = now if now is not None and now.window() is self._window else None
        if self.target is not None:
            self.target.installEventFilter(self)
        self._follow()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Move with the focused widget."""
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.Hide):
            self._follow()
        return False

    def _follow(self) -> None:
        target = self.target
        if target is None or not target.isVisible():
            self.hide()
            return
        top_left = target.mapTo(self._window, target.rect().topLeft())
        rect = target.rect().translated(top_left).adjusted(-WIDTH, -WIDTH, WIDTH, WIDTH)
        self.setGeometry(rect)
        self.raise_()
        self.show()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The ring itself."""
        painter = QPainter(self)
        painter.setPen(QPen(RING, WIDTH))
        painter.drawRect(self.rect().adjusted(1, 1, -1, -1))
