"""The server went away mid-queue: one message, Reconnect, and the queue goes on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from cci_uploader import omero as om

if TYPE_CHECKING:
    from collections.abc import Callable

    from cci_uploader.ui.widgets.connection_bar import ConnectionBar
    from cci_uploader.ui.widgets.pause_banner import PauseBanner
    from cci_uploader.ui.workers.tasks import ServerTasks


class OfflineFlow(QObject):
    """Shows the pause banner until a reconnect works (``reconnected``) or the user stops.

    Parameters
    ----------
    tasks : ServerTasks
        Where the reconnect runs (never on the GUI thread).
    banner : PauseBanner
        The one message, with its Reconnect and Stop buttons.
    connection_bar : ConnectionBar
        Its indicator turns red while the server is away.
    explain : callable
        Turns a failure into a message for the banner.
    """

    reconnected = Signal()
    stopped = Signal()
    expired = Signal(str)  # the session ended while the server was away: a new token is needed

    def __init__(
        self,
        *,
        tasks: ServerTasks,
        banner: PauseBanner,
        connection_bar: ConnectionBar,
        explain: Callable[[BaseException], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks, self._banner, self._bar, self._explain = tasks, banner, connection_bar, explain
        self._conn: om.Connection | None = None
        banner.reconnect_requested.connect(self._on_reconnect_requested)
        banner.stop_requested.connect(self._on_stop_requested)

    @property
    def paused(self) -> bool:
        """Whether the queue waits for the server."""
        return self._conn is not None

    def pause(self, message: str, conn: om.Connection) -> None:
        """Show ``message`` once; Reconnect joins the same session again."""
        self._conn = conn
        self._bar.set_offline()
        self._banner.show_paused(f"{message} Press Reconnect once the network is back.")

    def _on_reconnect_requested(self) -> None:
        if self._conn is None:
            return
        self._banner.show_trying()
        self._tasks.call(
            self._conn.reconnect, on_done=self._on_reconnected, on_error=self._on_failed
        )

    def _on_reconnected(self, _: object) -> None:
        self._conn = None
        self._banner.hide()
        self.reconnected.emit()

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, om.LoginFailed):
            self._conn = None
            self._banner.hide()
            self.expired.emit(str(exc))
            return
        self._banner.show_paused(
            f"Still no answer from OMERO. {self._explain(exc)} "
            "The queue stays paused; press Reconnect again when the network is back."
        )

    def _on_stop_requested(self) -> None:
        self._conn = None
        self._banner.hide()
        self.stopped.emit()
