"""The file list's column widths: each column before Status fits its title and its text.

Rows are measured once, as they come (or change), from their text and the
font, not by asking the view for a whole column again on every insert:
``QTreeView.sizeHintForColumn`` goes through the delegate for up to 1,000
rows per column, and per batch of a big folder that was most of the
window's time (bench/window_add.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, QTimer
from PySide6.QtGui import QTextLayout, QTextOption
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionViewItem, QTreeView

from cci_uploader.ui.models.files import ACQUIRED, MICROSCOPE, NAME, PROGRESS, STATUS, TARGET
from cci_uploader.ui.widgets.progress_delegate import MIN_CELL_WIDTH

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from cci_uploader.ui.models.files import FileModel

# Widest a column grows on its own, so that the Status column keeps room.
CAPS = {NAME: 260, MICROSCOPE: 240, ACQUIRED: 220, TARGET: 400}
# Status keeps at least this much; these columns give way, in this order, down to a width.
STATUS_MIN = 320
GIVE_WAY = ((TARGET, 110), (ACQUIRED, 100), (MICROSCOPE, 150), (NAME, 160))
SLACK = 8  # beyond the widest text, so that it is never cut
_UNBOUNDED = 1e7  # a line's room: text is never wrapped in a cell
FITTED = tuple(c for c in range(STATUS) if c != PROGRESS)  # Progress keeps its bar's width


class ColumnFitter(QObject):
    """Keeps the columns of a :class:`FileModel`'s view fitted as rows come, change and go.

    A column before Status fits its title and the widest text of its rows,
    up to its cap in :data:`CAPS`; it widens as wider text comes and narrows
    again only when rows go.  A column the user resized keeps the user's
    width.  Target, then Acquired, Microscope and Name give way so that
    Status keeps :data:`STATUS_MIN`.  The work waits for the event loop's
    next turn, so many inserts or changes in one turn cost one fit, and
    only the rows that came or changed since are measured.

    Parameters
    ----------
    view : QTreeView
        The list; it owns the fitter.
    model : FileModel
        The rows it shows.
    """

    def __init__(self, view: QTreeView, model: FileModel) -> None:
        super().__init__(view)
        self._view, self._model = view, model
        self.user_sized: set[int] = set()
        self.natural: dict[int, int] = {}  # each column's fitted width before giving way
        self._widest: dict[int, int] = {}  # widest cell so far, as the delegate would size it
        self._pending: list[range] = []  # top-level rows that came or changed since the fit
        self._parents: list[QPersistentModelIndex] = []  # rows whose companions were shown
        self._again = False  # rows went, or the font changed: measure every row again
        self._measure: _Measure | None = None  # the font's and style's sizes, until they change
        self._fitting = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_timer_timeout)
        view.header().sectionResized.connect(self._on_section_resized)
        view.header().sectionMoved.connect(self._on_section_moved)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsRemoved.connect(self._on_rows_removed)
        model.modelReset.connect(self._on_model_reset)
        model.dataChanged.connect(self._on_data_changed)
        model.headerDataChanged.connect(self._on_header_data_changed)
        view.expanded.connect(self._on_expanded)
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        self._again = True  # the rows already there, if any
        self.fit()

    def fit(self) -> None:
        """Measure the rows that came or changed since the last fit, then set the widths."""
        self._timer.stop()
        if self._again:
            self._start_over()
        if self._measure is None:
            self._measure = _Measure(self._view)
        measure, model = self._measure, self._model
        # The tree's own column (Name, unless the user moved another first) is indented.
        position = self._view.treePosition()
        tree = position if position >= 0 else self._view.header().logicalIndex(0)
        count = model.rowCount()
        for rows in self._pending:
            rows = range(min(rows.start, count), min(rows.stop, count))
            for column in self._columns() if rows else ():
                texts = model.texts(column, rows)
                self._grow(column, measure.cells(texts, level=0 if column == tree else None))
        for parent in (p for p in self._parents if p.isValid()):
            index = model.index(parent.row(), NAME)
            for column in self._columns():
                rows = range(model.rowCount(index))
                texts = [str(model.index(r, column, index).data() or "") for r in rows]
                self._grow(column, measure.cells(texts, level=1 if column == tree else None))
        self._pending, self._parents = [], []
        header = self._view.header()
        natural = {c: header.sectionSize(c) for c in range(STATUS)}
        for column in self._columns():
            width = max(self._widest.get(column, 0), measure.title(header, column)) + SLACK
            natural[column] = min(width, CAPS.get(column, width))
        if natural != self.natural:
            self.natural = natural
            self.fit_target()

    def _start_over(self) -> None:
        """Forget the widths measured so far: every row (and shown companion) again."""
        rows = range(self._model.rowCount())
        self._again, self._widest, self._pending = False, {}, [rows]
        self._parents = [
            QPersistentModelIndex(self._model.index(r, NAME))
            for r in rows
            if self._view.isExpanded(self._model.index(r, NAME))
        ]

    def fit_target(self) -> None:
        """Narrow Target first, then Acquired, Microscope and Name, so Status keeps its room."""
        if not self.natural:
            return
        header = self._view.header()
        widths = {c: header.sectionSize(c) for c in range(STATUS)}
        widths.update({c: w for c, w in self.natural.items() if c not in self.user_sized})
        excess = sum(widths.values()) + STATUS_MIN - self._view.viewport().width()
        for column, narrowest in GIVE_WAY:
            if excess <= 0:
                break
            if column in self.user_sized:
                continue
            cut = min(excess, max(0, widths[column] - narrowest))
            widths[column] -= cut
            excess -= cut
        self._fitting = True
        try:
            for column, width in widths.items():
                if column not in self.user_sized and header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Give way again when the list is resized; measure again when its font changes."""
        if watched is self._viewport:
            if event.type() == QEvent.Type.Resize:
                self.fit_target()
            elif event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
                self._again, self._measure = True, None
                self._timer.start()
        return False

    def _columns(self) -> list[int]:
        return [c for c in FITTED if c not in self.user_sized]

    def _grow(self, column: int, width: int) -> None:
        self._widest[column] = max(self._widest.get(column, 0), width)

    def _soon(self, rows: range) -> None:
        self._pending.append(rows)
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        self.fit()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            self._soon(range(first, last + 1))

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Sequence[int] = ()
    ) -> None:
        if top_left.parent().isValid():
            return  # a companion's text never changes
        if not roles or Qt.ItemDataRole.DisplayRole in roles:
            self._soon(range(top_left.row(), bottom_right.row() + 1))

    def _on_header_data_changed(self, *_: object) -> None:
        self._measure = None  # the titles' widths
        self._timer.start()

    def _on_section_moved(self, *_: object) -> None:
        self._again = True  # the indented column may have changed
        self._timer.start()

    def _on_rows_removed(self, *_: object) -> None:
        self._again = True
        self._timer.start()

    def _on_model_reset(self) -> None:
        self._widest, self._pending, self._parents, self._again = {}, [], [], False
        self._timer.start()

    def _on_expanded(self, index: QModelIndex) -> None:
        self._parents.append(QPersistentModelIndex(index.siblingAtColumn(NAME)))
        self._timer.start()

    def _on_section_resized(self, column: int, *_: int) -> None:
        if not self._fitting:
            self.user_sized.add(column)  # the user's width stays


class _Measure:
    """Cell widths as the view's delegate and style would size them, from the text alone."""

    def __init__(self, view: QTreeView) -> None:
        self._layout = QTextLayout("", view.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.NoWrap)
        self._layout.setTextOption(option)
        sample = QStyleOptionViewItem()
        sample.initFrom(view)
        sample.font = view.font()
        sample.features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
        sample.text = "Name"
        size = view.style().sizeFromContents(
            QStyle.ContentsType.CT_ItemViewItem, sample, QSize(), view
        )
        self._margins = size.width() - self._text_width(sample.text)  # the style's, both sides
        self._indent = view.indentation()
        self._decorated = view.rootIsDecorated()
        self._titles: dict[int, int] = {}

    def title(self, header: QHeaderView, column: int) -> int:
        """The width the header wants for ``column``'s title."""
        if column not in self._titles:
            self._titles[column] = header.sectionSizeHint(column)
        return self._titles[column]

    def cells(self, texts: Iterable[str], level: int | None) -> int:
        """The widest cell of ``texts``; in the tree's column, ``level`` deep (0: top level)."""
        widest = max((self._text_width(t) for t in set(texts)), default=None)
        if widest is None:
            return 0
        width = max(MIN_CELL_WIDTH, widest + self._margins)
        if level is not None:
            width += (level + int(self._decorated)) * self._indent
        return width

    def _text_width(self, text: str) -> int:
        # As the style lays a cell's text out: no wrapping, a new line where the text has
        # one (the delegate shows "\n" as a line separator), the widest line counts.
        layout = self._layout
        layout.setText(text.replace("\n", "\u2028"))
        layout.beginLayout()
        widest = 0.0
        while (line := layout.createLine()).isValid():
            line.setLineWidth(_UNBOUNDED)
            widest = max(widest, line.naturalTextWidth())
        layout.endLayout()
        return math.ceil(widest)
