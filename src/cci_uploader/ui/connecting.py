"""Connecting: the token, the OMERO session, its group and the values a key had before."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from cci_uploader.ui.dialogs.retention import remind_if_old_images
from cci_uploader.ui.workers import jobs

if TYPE_CHECKING:
    from collections.abc import Callable

    from cci_uploader import omero as om
    from cci_uploader.config import Config
    from cci_uploader.ui.settings import AppSettings
    from cci_uploader.ui.widgets.connection_bar import ConnectionBar
    from cci_uploader.ui.widgets.group_picker import GroupPicker
    from cci_uploader.ui.widgets.pairs_editor import PairsEditor
    from cci_uploader.ui.workers.tasks import ServerTasks

SANDBOX_TOKEN_NOTE = (
    "In the training sandbox the demo token is already filled in: just press Connect. "
    "Against your facility's server, Get token opens OMERO.web's token page."
)


def _ignore(_: object) -> None:
    """Closing a session nobody uses any more: its outcome changes nothing."""


class ConnectFlow(QObject):
    """Connect and Get token, the group picker, and the values offered for a key.

    Parameters
    ----------
    tasks : ServerTasks
        The server FIFO every call goes through.
    connection_bar, group_picker, pairs_editor : widget
        What this flow reads from and shows in.
    settings : AppSettings
        The last group and pairs are remembered there.
    config : callable
        The current config (Settings can change the server between calls).
    explain : callable
        Turns a worker's failure into a message for the user.
    open_url : callable
        Opens OMERO.web's token page.
    window : QWidget
        The parent of the dialogs shown here.
    sandbox : bool
        The training sandbox: it has no token page, a note says so instead.
    """

    changed = Signal()  # connected, or a Connect failed: what can be done next changed

    def __init__(
        self,
        *,
        tasks: ServerTasks,
        connection_bar: ConnectionBar,
        group_picker: GroupPicker,
        pairs_editor: PairsEditor,
        settings: AppSettings,
        config: Callable[[], Config],
        explain: Callable[[BaseException], str],
        open_url: Callable[[str], None],
        window: QWidget,
        sandbox: bool = False,
    ) -> None:
        super().__init__(window)
        self._tasks = tasks
        self._bar = connection_bar
        self._picker = group_picker
        self._editor = pairs_editor
        self._settings = settings
        self._config = config
        self._explain = explain
        self._open_url = open_url
        self._window = window
        self._sandbox = sandbox
        self._reminded = False
        self.conn: om.Connection | None = None
        self.sandbox_note: QMessageBox | None = None
        connection_bar.connect_requested.connect(self._on_connect_requested)
        connection_bar.token_page_requested.connect(self.open_token_page)
        group_picker.group_chosen.connect(self._on_group_chosen)
        pairs_editor.key_changed.connect(self.load_values)
        pairs_editor.pairs_changed.connect(self._on_pairs_changed)

    def open_token_page(self) -> None:
        """OMERO.web's token page in the browser (in the sandbox, a note instead)."""
        if self._sandbox:  # the stand-in has no OMERO.web; the token is already there
            self.sandbox_note = QMessageBox(
                QMessageBox.Icon.Information, "Get token", SANDBOX_TOKEN_NOTE, parent=self._window
            )
            self.sandbox_note.open()
            return
        self._open_url(self._config().token_url)

    def replace(self, conn: om.Connection) -> None:
        """Use ``conn`` from now on; the session it replaces is closed."""
        old, self.conn = self.conn, conn
        if old is not None:
            self._tasks.call(old.close, on_done=_ignore, on_error=_ignore)
        self._bar.set_connected(conn.user_name, self._config().server)

    def load_values(self, key: str) -> None:
        """Offer the values ``key`` already has on the server (once connected)."""
        if self.conn is not None:
            self._tasks.call(
                jobs.values_for,
                self.conn,
                key,
                on_done=self._on_values_loaded,
                on_error=self._on_values_failed,
            )

    def _on_connect_requested(self, token: str) -> None:
        self._bar.set_connecting()
        self._tasks.call(
            jobs.join,
            self._config().server,
            token,
            None,
            on_done=self._on_joined,
            on_error=self._on_join_failed,
        )

    def _on_joined(self, joined: jobs.Joined) -> None:
        self.replace(joined.conn)
        config = self._config()
        if not self._reminded:  # the 4-week reminder, once per run of the app
            self._reminded = True
            remind_if_old_images(
                self._window,
                conn=joined.conn,
                config=config,
                tasks=self._tasks,
                open_url=self._open_url,
            )
        self._picker.set_groups(joined.groups, self._settings.last_group(config.server))
        self.changed.emit()

    def _on_join_failed(self, exc: BaseException) -> None:
        # A malformed server address (Settings) raises ValueError with a plain message.
        message = str(exc) if isinstance(exc, ValueError) else self._explain(exc)
        if self.conn is not None:
            self._bar.set_failed_while_connected(message, self.conn.user_name)
        else:
            self._bar.set_disconnected(message)
        self.changed.emit()

    def _on_group_chosen(self, group_id: int) -> None:
        if self.conn is None:
            return
        self._settings.set_last_group(self._config().server, group_id)
        self._tasks.call(
            jobs.choose_group,
            self.conn,
            group_id,
            self._editor.current_key(),
            on_done=self._on_group_ready,
            on_error=self._on_values_failed,
        )

    def _on_group_ready(self, result: tuple[int, list[str]]) -> None:
        _, values = result
        self._editor.set_values(self._editor.current_key(), values)

    def _on_values_loaded(self, result: tuple[str, list[str]]) -> None:
        self._editor.set_values(*result)

    def _on_values_failed(self, exc: BaseException) -> None:
        self._editor.set_values_unavailable(self._explain(exc))

    def _on_pairs_changed(self) -> None:
        self._settings.set_last_pairs(self._editor.pairs())
