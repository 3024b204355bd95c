"""Session expiry in the middle of a queue: ask for a fresh token, join the same group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from cci_uploader.ui.dialogs.token import TokenDialog
from cci_uploader.ui.workers import jobs

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QWidget

    from cci_uploader.ui.workers.tasks import ServerTasks


class ExpiryFlow(QObject):
    """Shows the token dialog until a token works (``rejoined``) or the user declines.

    Parameters
    ----------
    tasks : ServerTasks
        Where the new connection is made (never on the GUI thread).
    server : callable
        The server address at the time of asking.
    explain : callable
        Turns a failure into a message for the dialog.
    window : QWidget
        The dialog's parent.
    """

    rejoined = Signal(object)  # jobs.Joined, already in the queue's group
    refused = Signal()
    token_page_requested = Signal()

    def __init__(
        self,
        *,
        tasks: ServerTasks,
        server: Callable[[], str],
        explain: Callable[[BaseException], str],
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._tasks, self._server, self._explain, self._window = tasks, server, explain, window
        self.dialog: TokenDialog | None = None

    def ask(self, message: str, group: int) -> None:
        """Open the dialog with ``message``; a working token joins ``group`` again."""
        dialog = TokenDialog(message, self._window)
        dialog.token_page_requested.connect(self.token_page_requested)
        dialog.accepted.connect(lambda: self._on_accepted(dialog.token(), group))
        dialog.rejected.connect(self._on_rejected)
        self.dialog = dialog
        dialog.open()

    def _on_accepted(self, token: str, group: int) -> None:
        self._tasks.call(
            jobs.join,
            self._server(),
            token,
            group,
            on_done=self._on_joined,
            on_error=lambda exc: self.ask(self._explain(exc), group),
        )

    def _on_joined(self, joined: jobs.Joined) -> None:
        self.dialog = None
        self.rejoined.emit(joined)

    def _on_rejected(self) -> None:
        self.dialog = None
        self.refused.emit()
