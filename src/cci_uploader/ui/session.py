"""The controller behind the window: connect, choose a group, scan, import.

Every server call and every file read runs in a worker; the slots here run
on the GUI thread and only update widgets and the model.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool
from PySide6.QtWidgets import QWidget

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, SessionLost, Status
from cci_uploader.scan import ScanEntry
from cci_uploader.ui import jobs
from cci_uploader.ui.action_bar import ActionBar
from cci_uploader.ui.connection_bar import ConnectionBar
from cci_uploader.ui.expiry import ExpiryFlow
from cci_uploader.ui.file_model import FileModel
from cci_uploader.ui.file_panel import FilePanel
from cci_uploader.ui.group_picker import GroupPicker
from cci_uploader.ui.pairs_editor import PairsEditor
from cci_uploader.ui.progress import ProgressMeter
from cci_uploader.ui.retention_dialog import remind_if_old_images
from cci_uploader.ui.settings import AppSettings
from cci_uploader.ui.status_line import StatusLine
from cci_uploader.ui.tasks import ServerTasks, run_in_background
from cci_uploader.ui.token_dialog import TokenDialog
from cci_uploader.workspace import Workspace

log = logging.getLogger(__name__)

EXPIRED_NOT_NOW = (
    "not uploaded: the session expired. Connect with a new token and press Retry failed."
)


class UploadSession(QObject):
    """Holds the connection and the queue, and wires the widgets to the core."""

    def __init__(
        self,
        *,
        config: Config,
        settings: AppSettings,
        log_path: Path,
        model: FileModel,
        meter: ProgressMeter,
        connection_bar: ConnectionBar,
        group_picker: GroupPicker,
        pairs_editor: PairsEditor,
        file_panel: FilePanel,
        action_bar: ActionBar,
        status_line: StatusLine,
        open_url: Callable[[str], None],
        workspace: Workspace,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.config = config
        self.settings = settings
        self.log_path = log_path
        self.model = model
        self.meter = meter
        self.connection_bar = connection_bar
        self.group_picker = group_picker
        self.pairs_editor = pairs_editor
        self.file_panel = file_panel
        self.action_bar = action_bar
        self.status_line = status_line
        self._open_url = open_url
        self._window = parent
        self.tasks = ServerTasks(self)
        self.conn: om.Connection | None = None
        self.queue: ImportQueue | None = None
        self.running = False
        self.paused = False  # the session expired; the token dialog is open
        self.scanning = 0
        self._reminded = False
        self.expiry = ExpiryFlow(
            tasks=self.tasks,
            server=lambda: self.config.server,
            explain=self._explain,
            window=parent,
        )
        self.expiry.token_page_requested.connect(self._on_token_page_requested)
        self.expiry.rejoined.connect(self._on_rejoined)
        self.expiry.refused.connect(self._on_refused)

        connection_bar.connect_requested.connect(self._on_connect_requested)
        connection_bar.token_page_requested.connect(self._on_token_page_requested)
        group_picker.group_chosen.connect(self._on_group_chosen)
        pairs_editor.key_changed.connect(self._on_key_changed)
        pairs_editor.pairs_changed.connect(self._on_pairs_changed)
        file_panel.paths_chosen.connect(self.add_paths)
        file_panel.clear_requested.connect(self._on_clear_requested)
        file_panel.image_opened.connect(self._on_image_opened)
        action_bar.import_requested.connect(self._on_import_requested)
        action_bar.cancel_requested.connect(self._on_cancel_requested)
        action_bar.retry_requested.connect(self._on_retry_requested)
        self._refresh_actions()

    # -- helpers ----------------------------------------------------------

    def _explain(self, exc: BaseException) -> str:
        """A message for the user; unexpected errors go to the log with their traceback."""
        if isinstance(exc, om.OmeroError):
            return str(exc)
        log.error("unexpected error in a worker", exc_info=exc)
        return f"Something went wrong unexpectedly. Details are in the log file: {self.log_path}"

    def _refresh_actions(self) -> None:
        rows = self.model.rows()
        can_import = self.conn is not None and any(r.scan.ok for r in rows) and not self.scanning
        failed = (
            self.conn is not None
            and self.queue is not None
            and any(e.status is Status.ERROR and not e.refused for e in self.queue.entries)
        )
        busy = self.running or self.paused
        if self.paused:
            hint = "Paused: the queue continues once you give a new token."
        elif self.running:
            hint = "Uploading… you can keep working; Cancel stops after the current chunk."
        elif self.conn is None:
            hint = "Connect first: paste your token and press Connect."
        elif self.scanning:
            hint = "Reading the files…"
        elif not rows:
            hint = "Add files or a folder, or drop them on this window."
        else:
            hint = "Press Import to upload every file listed."
        self.action_bar.set_state(busy, can_import, failed, hint)
        self.action_bar.cancel_button.setEnabled(self.running)
        self.file_panel.set_editable(not busy)
        self.group_picker.setEnabled(not busy and self.conn is not None)
        self.connection_bar.connect_button.setEnabled(not busy)

    def apply_settings(self, server: str, web_url: str, token_url: str) -> None:
        """Use new connection settings from the next Connect on."""
        self.config = dataclasses.replace(
            self.config, server=server, web_url=web_url, token_url=token_url
        )
        self.connection_bar.set_server(server)

    # -- connecting -------------------------------------------------------

    def _on_token_page_requested(self) -> None:
        self._open_url(self.config.token_url)

    def _on_connect_requested(self, token: str) -> None:
        self.connection_bar.set_connecting()
        self.tasks.call(
            jobs.join,
            self.config.server,
            token,
            None,
            on_done=self._on_joined,
            on_error=self._on_join_failed,
        )

    def _replace_connection(self, conn: om.Connection) -> None:
        old, self.conn = self.conn, conn
        if old is not None:
            self.tasks.call(old.close, on_done=lambda _: None, on_error=lambda _: None)
        self.connection_bar.set_connected(conn.user_name, self.config.server)

    def _on_joined(self, joined: jobs.Joined) -> None:
        self._replace_connection(joined.conn)
        if not self._reminded:  # the 4-week reminder, once per run of the app
            self._reminded = True
            remind_if_old_images(
                self._window,
                conn=joined.conn,
                config=self.config,
                tasks=self.tasks,
                open_url=self._open_url,
            )
        preferred = self.settings.last_group(self.config.server)
        self.group_picker.set_groups(joined.groups, preferred)
        self._refresh_actions()

    def _on_join_failed(self, exc: BaseException) -> None:
        # A malformed server address (Settings) raises ValueError with a plain message.
        message = str(exc) if isinstance(exc, ValueError) else self._explain(exc)
        self.connection_bar.set_disconnected(message)
        if self.conn is not None:
            self.connection_bar.set_connected(self.conn.user_name, self.config.server)
            self.connection_bar.state_label.setText(
                f"{message} Still connected as {self.conn.user_name}."
            )
        self._refresh_actions()

    def _on_group_chosen(self, group_id: int) -> None:
        if self.conn is None:
            return
        self.settings.set_last_group(self.config.server, group_id)
        self.tasks.call(
            jobs.choose_group,
            self.conn,
            group_id,
            self.pairs_editor.current_key(),
            on_done=self._on_group_ready,
            on_error=self._on_values_failed,
        )

    def _on_group_ready(self, result: tuple[int, list[str]]) -> None:
        _, values = result
        self.pairs_editor.set_values(self.pairs_editor.current_key(), values)

    def _on_key_changed(self, key: str) -> None:
        if self.conn is not None:
            self.tasks.call(
                jobs.values_for,
                self.conn,
                key,
                on_done=self._on_values_loaded,
                on_error=self._on_values_failed,
            )

    def _on_values_loaded(self, result: tuple[str, list[str]]) -> None:
        self.pairs_editor.set_values(*result)

    def _on_values_failed(self, exc: BaseException) -> None:
        self.pairs_editor.set_values_unavailable(self._explain(exc))

    def _on_pairs_changed(self) -> None:
        self.settings.set_last_pairs(self.pairs_editor.pairs())

    # -- files --------------------------------------------------------------

    def add_paths(self, paths: list[Path]) -> None:
        """Scan ``paths`` in the background and list what they hold."""
        self.scanning += 1
        self.status_line.show_text(f"Reading {len(paths)} item(s)…")
        self._refresh_actions()
        run_in_background(
            jobs.scan, paths, self.config, on_done=self._on_scanned, on_error=self._on_scan_failed
        )

    def _on_scanned(self, scans: list[tuple[ScanEntry, int]]) -> None:
        self.scanning -= 1
        added = self.model.add(scans)
        self.status_line.show_text(f"{len(added)} file(s) added.")
        self._refresh_actions()

    def _on_scan_failed(self, exc: BaseException) -> None:
        self.scanning -= 1
        self.status_line.show_text(self._explain(exc))
        self._refresh_actions()

    def _on_clear_requested(self) -> None:
        if not (self.running or self.paused):
            self.model.clear()
            self.queue = None
            self.status_line.show_text("List cleared.")
            self._refresh_actions()

    def _on_image_opened(self, image_id: int) -> None:
        self._open_url(f"{self.config.web_url}img_detail/{image_id}/")

    # -- the queue ----------------------------------------------------------

    def _on_import_requested(self) -> None:
        if self.running or self.paused or self.conn is None:
            return
        pairs = self.pairs_editor.pairs()
        self.settings.set_last_pairs(pairs)
        # A training sandbox reached from the normal window records nothing either.
        keep = self.workspace.throwaway or not self.conn.is_sandbox
        self.queue = ImportQueue(
            [r.scan for r in self.model.rows()],
            pairs,
            history=self.workspace.history if keep else None,
            work_dir=self.workspace.cache_dir / "converted",
        )
        self._start_queue()

    def _on_retry_requested(self) -> None:
        if self.running or self.paused or self.queue is None or self.conn is None:
            return
        for index in self.queue.retry_failed():
            self._show_entry(index)
        self._start_queue()

    def _on_cancel_requested(self) -> None:
        if self.queue is not None and self.running:
            self.queue.cancel()
            self.action_bar.cancel_button.setEnabled(False)
            self.status_line.show_text("Stopping after the current chunk…")

    def _show_entry(self, index: int) -> None:
        assert self.queue is not None
        entry = self.queue.entries[index]
        self.model.update(
            entry.scan.path,
            entry.status,
            entry.message,
            entry.done_bytes,
            entry.total_bytes,
            entry.image_ids,
        )

    def _start_queue(self) -> None:
        assert self.queue is not None and self.conn is not None
        self.meter.reset(
            {
                i: self.model.row_for(e.scan.path).size
                for i, e in enumerate(self.queue.entries)
                if e.status in (Status.PENDING, Status.QUEUED)
            }
        )
        self.running = True
        self._refresh_actions()
        self.status_line.refresh()
        self.tasks.generate(
            jobs.run_queue,
            self.queue,
            self.conn,
            on_yield=self._on_queue_event,
            on_done=self._on_queue_done,
            on_error=self._on_queue_failed,
        )

    def _on_queue_event(self, event: jobs.RowUpdate | SessionLost) -> None:
        if isinstance(event, SessionLost):
            assert self.conn is not None
            self.paused = True
            self.expiry.ask(event.message, self.conn.group_id)
            return
        self.model.update(
            event.path,
            event.status,
            event.message,
            event.done_bytes,
            event.total_bytes,
            event.image_ids,
        )
        done = event.done_bytes
        if event.status in (Status.UPLOADED, Status.DUPLICATE):
            done = event.total_bytes or self.model.row_for(event.path).size
        if event.status is not Status.QUEUED:
            self.meter.update(event.index, done, event.total_bytes)
            self.status_line.refresh()

    def _on_queue_done(self, _: object) -> None:
        self.running = False
        self._refresh_actions()
        if self.paused:
            self.status_line.show_text("Paused: waiting for a new token.")
            return
        assert self.queue is not None
        self.status_line.show_text(jobs.summary(self.queue.entries))

    def _on_queue_failed(self, exc: BaseException) -> None:
        self.running = False
        message = self._explain(exc)
        if self.queue is not None:  # no row stays cyan or yellow after the worker died
            for index, entry in enumerate(self.queue.entries):
                if entry.status in (Status.QUEUED, Status.UPLOADING):
                    entry.status, entry.message = Status.ERROR, message
                    self._show_entry(index)
        self.status_line.show_text(message)
        self._refresh_actions()

    # -- session expiry -----------------------------------------------------

    @property
    def token_dialog(self) -> TokenDialog | None:
        """The open session-expiry dialog, if any."""
        return self.expiry.dialog

    def _on_rejoined(self, joined: jobs.Joined) -> None:
        self._replace_connection(joined.conn)
        self.paused = False
        self._start_queue()

    def _on_refused(self) -> None:
        self.paused = False
        if self.queue is None:
            return
        for index, entry in enumerate(self.queue.entries):
            if entry.status in (Status.QUEUED, Status.PENDING):
                entry.status, entry.message = Status.ERROR, EXPIRED_NOT_NOW
                self._show_entry(index)
        self.connection_bar.set_disconnected("The session expired.")
        if self.conn is not None:
            self.tasks.call(self.conn.close, on_done=lambda _: None, on_error=lambda _: None)
        self.conn = None
        self.status_line.show_text("Stopped: the session expired.")
        self._refresh_actions()

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop the queue after its current chunk, wait for workers, leave the session."""
        if self.queue is not None:
            self.queue.cancel()
        pool = QThreadPool.globalInstance()
        pool.waitForDone(timeout_ms)
        if self.conn is not None:
            run_in_background(self.conn.close, on_done=lambda _: None, on_error=lambda _: None)
            self.conn = None
            pool.waitForDone(timeout_ms)
