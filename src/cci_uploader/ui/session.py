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
from PySide6.QtWidgets import QMessageBox, QWidget

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ConnectionDown, EntryChanged, ImportQueue, SessionLost, Status
from cci_uploader.plan import with_pairs
from cci_uploader.progress import ProgressMeter
from cci_uploader.ui import jobs
from cci_uploader.ui.action_bar import ActionBar
from cci_uploader.ui.connection_bar import ConnectionBar
from cci_uploader.ui.expiry import ExpiryFlow
from cci_uploader.ui.file_model import FileModel
from cci_uploader.ui.file_panel import FilePanel
from cci_uploader.ui.group_picker import GroupPicker
from cci_uploader.ui.intake import FileIntake
from cci_uploader.ui.offline import OfflineFlow
from cci_uploader.ui.pairs_editor import PairsEditor
from cci_uploader.ui.pause_banner import PauseBanner
from cci_uploader.ui.remembered import ask_use_remembered
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
OFFLINE_STOPPED = (
    "not uploaded: the connection to OMERO was lost. Reconnect, then press Retry failed."
)
SANDBOX_TOKEN_NOTE = (
    "In the training sandbox the demo token is already filled in: just press Connect. "
    "Against your facility's server, Get token opens OMERO.web's token page."
)


class UploadSession(QObject):
    """Holds the connection and the queue, and wires the widgets to the core."""

    def __init__(
        self,
        *,
        config: Config,
        facility_microscope: str | None = None,
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
        pause_banner: PauseBanner,
        open_url: Callable[[str], None],
        workspace: Workspace,
        parent: QWidget,
        sandbox: bool = False,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.config = config
        # The facility config's default microscope (Settings may override it per user).
        self.facility_microscope = facility_microscope
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
        self.sandbox = sandbox
        self.sandbox_note: QMessageBox | None = None
        self.remembered_box: QMessageBox | None = None
        self.tasks = ServerTasks(self)
        self.conn: om.Connection | None = None
        self.queue: ImportQueue | None = None
        self.running = False
        self.paused = False  # the session expired; the token dialog is open
        self.intake = FileIntake(
            model=model,
            status_line=status_line,
            config=lambda: self.config,
            explain=self._explain,
            parent=self,
        )
        self.intake.changed.connect(self._refresh_actions)
        self.stopping = False  # Cancel was pressed: the summary says Stopped
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
        self.offline = OfflineFlow(
            tasks=self.tasks,
            banner=pause_banner,
            connection_bar=connection_bar,
            explain=self._explain,
            parent=self,
        )
        self.offline.reconnected.connect(self._on_reconnected)
        self.offline.stopped.connect(self._on_offline_stopped)
        self.offline.expired.connect(self._on_offline_expired)

        connection_bar.connect_requested.connect(self._on_connect_requested)
        connection_bar.token_page_requested.connect(self._on_token_page_requested)
        group_picker.group_chosen.connect(self._on_group_chosen)
        pairs_editor.key_changed.connect(self._on_key_changed)
        pairs_editor.pairs_changed.connect(self._on_pairs_changed)
        file_panel.paths_chosen.connect(self.add_paths)
        file_panel.clear_requested.connect(self._on_clear_requested)
        file_panel.remove_requested.connect(self._on_remove_requested)
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
            and any(
                s.status is Status.ERROR and not f.refused
                for f, s in zip(self.queue.files, self.queue.states, strict=True)
            )
        )
        busy = self.busy
        if self.offline.paused:
            hint = "Paused: the connection to OMERO was lost. Press Reconnect above the list."
        elif self.paused:
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

    @property
    def busy(self) -> bool:
        """The queue runs or waits (token dialog, lost connection): the list stays as it is."""
        return self.running or self.paused or self.offline.paused

    def apply_microscope(self, name: str) -> None:
        """Use ``name`` for files naming no microscope (the ones not uploaded yet follow)."""
        self.config = dataclasses.replace(
            self.config, default_microscope=name or self.facility_microscope
        )
        if self.busy:  # the queue holds the rows: the change applies to files added next
            return
        changed = self.model.remap_microscopes(self.config)
        if self.queue is not None:
            self.queue.remap_microscopes(self.config)
        if changed:
            self.status_line.show_text(f"{changed} file(s) now go to {self._unnamed_target()}.")

    def _unnamed_target(self) -> str:
        return self.config.default_microscope or "Unknown microscope"

    def apply_settings(self, server: str, web_url: str, token_url: str) -> None:
        """Use new connection settings from the next Connect on."""
        self.config = dataclasses.replace(
            self.config, server=server, web_url=web_url, token_url=token_url
        )
        self.connection_bar.set_server(server)

    # -- connecting -------------------------------------------------------

    def _on_token_page_requested(self) -> None:
        if self.sandbox:  # the stand-in has no OMERO.web; the token is already there
            self.sandbox_note = QMessageBox(
                QMessageBox.Icon.Information, "Get token", SANDBOX_TOKEN_NOTE, parent=self._window
            )
            self.sandbox_note.open()
            return
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
        if self.conn is not None:
            self.connection_bar.set_failed_while_connected(message, self.conn.user_name)
        else:
            self.connection_bar.set_disconnected(message)
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

    @property
    def scanning(self) -> int:
        """How many scans are still reading."""
        return self.intake.scanning

    def add_paths(self, paths: list[Path]) -> None:
        """Scan ``paths`` in the background; rows appear as each item is read."""
        self.intake.add_paths(paths)

    def _on_clear_requested(self) -> None:
        if not self.busy:
            self.model.clear()
            self.queue = None
            self.status_line.show_text("List cleared.")
            self._refresh_actions()

    def _on_remove_requested(self, paths: list[Path]) -> None:
        if self.busy or not paths:
            return
        removed = self.model.remove(paths)
        if self.queue is not None:
            self.queue.remove(set(paths))
        self.status_line.show_text(f"{removed} file(s) removed from the list.")
        self._refresh_actions()

    # -- the queue ----------------------------------------------------------

    def _on_import_requested(self) -> None:
        if self.busy or self.conn is None:
            return
        if self.pairs_editor.remembered:  # never applied unnoticed: ask once
            self.remembered_box = ask_use_remembered(
                self._window, self.pairs_editor.pairs(), self._on_remembered_answered
            )
            return
        self._import()

    def _on_remembered_answered(self, use: bool) -> None:
        if use:
            self.pairs_editor.mark_used()
            self._import()
        else:
            self.pairs_editor.value_combo.setFocus()

    def _import(self) -> None:
        if self.busy or self.conn is None:
            return
        # A value typed but not added still counts: it is added now, and said so.
        added = self.pairs_editor.add_typed()
        pairs = self.pairs_editor.pairs()
        self.pairs_editor.mark_used()
        self.settings.set_last_pairs(pairs)
        # A training sandbox reached from the normal window records nothing either.
        keep = self.workspace.throwaway or not self.conn.is_sandbox
        self.queue = ImportQueue(
            [with_pairs(r.file, pairs) for r in self.model.rows()],
            history=self.workspace.history if keep else None,
            work_dir=self.workspace.cache_dir / "converted",
        )
        self._start_queue()
        if added:
            key, value = added
            self.status_line.show_note(f"Added the typed pair {key} = {value} to every image.")

    def _on_retry_requested(self) -> None:
        if self.busy or self.queue is None or self.conn is None:
            return
        for event in self.queue.retry_failed():
            self.model.apply(event)
        self._start_queue()

    def _on_cancel_requested(self) -> None:
        if self.queue is not None and self.running:
            self.queue.cancel()
            self.stopping = True
            self.action_bar.cancel_button.setEnabled(False)
            self.status_line.show_text("Stopping after the current chunk…")

    def _start_queue(self, resume: bool = False) -> None:
        """Run the queue; ``resume`` goes on after a pause within the same run."""
        assert self.queue is not None and self.conn is not None
        if not resume:
            self.stopping = False
            self.meter.reset(
                {
                    i: self.model.row_for(f.path).size
                    for i, (f, s) in enumerate(
                        zip(self.queue.files, self.queue.states, strict=True)
                    )
                    if s.status in (Status.PENDING, Status.QUEUED)
                }
            )
            self.file_panel.follow_active(True)
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

    def _on_queue_event(self, event: EntryChanged | SessionLost | ConnectionDown) -> None:
        if isinstance(event, SessionLost):
            assert self.conn is not None
            self.paused = True
            self.expiry.ask(event.message, self.conn.group_id)
            return
        if isinstance(event, ConnectionDown):
            assert self.conn is not None
            self.offline.pause(event.message, self.conn)
            return
        self.model.apply(event)
        state = event.state
        if state.status is Status.UPLOADING:
            self.file_panel.show_active(event.file.path)
        if state.status in (Status.UPLOADED, Status.DUPLICATE, Status.ERROR):
            self.meter.finish(event.index)
            self.status_line.refresh()
        elif state.status is not Status.QUEUED:
            self.meter.update(event.index, state.done_bytes, state.total_bytes)
            self.status_line.refresh()

    def _on_queue_done(self, _: object) -> None:
        self.running = False
        self._refresh_actions()
        if self.offline.paused:
            self.status_line.show_text("Paused: the connection to OMERO was lost.")
            return
        if self.paused:
            self.status_line.show_text("Paused: waiting for a new token.")
            return
        assert self.queue is not None
        self.status_line.show_text(jobs.summary(self.queue.states, stopped=self.stopping))
        if any(s.status is Status.UPLOADED for s in self.queue.states):
            self._on_key_changed(self.pairs_editor.current_key())  # new values were used

    def _on_queue_failed(self, exc: BaseException) -> None:
        self.running = False
        message = self._explain(exc)
        if self.queue is not None:  # no row stays cyan or yellow after the worker died
            for event in self.queue.abandon(message):
                self.model.apply(event)
        self.status_line.show_text(message)
        self._refresh_actions()

    # -- the server went away -----------------------------------------------

    def _on_reconnected(self) -> None:
        assert self.conn is not None
        self.connection_bar.set_connected(self.conn.user_name, self.config.server)
        self._start_queue(resume=True)

    def _on_offline_stopped(self) -> None:
        self._end_waiting(OFFLINE_STOPPED)
        self.status_line.show_text(
            "Stopped: the connection to OMERO was lost. Reconnect, then press Retry failed."
        )
        self._refresh_actions()

    def _on_offline_expired(self, message: str) -> None:
        assert self.conn is not None
        self.paused = True
        self.expiry.ask(message, self.conn.group_id)

    def _end_waiting(self, message: str) -> None:
        """Files the queue did not reach are not uploaded, with ``message``."""
        if self.queue is None:
            return
        for event in self.queue.abandon(message):
            self.model.apply(event)

    # -- session expiry -----------------------------------------------------

    @property
    def token_dialog(self) -> TokenDialog | None:
        """The open session-expiry dialog, if any."""
        return self.expiry.dialog

    def _on_rejoined(self, joined: jobs.Joined) -> None:
        self._replace_connection(joined.conn)
        self.paused = False
        self._start_queue(resume=True)

    def _on_refused(self) -> None:
        self.paused = False
        if self.queue is None:
            return
        self._end_waiting(EXPIRED_NOT_NOW)
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
