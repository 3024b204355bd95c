"""The controller behind the window: the file list and the queue, Import to summary.

The window builds the flows it wires (connecting, reading files, a lost session or
connection). Server calls and file reads run in workers; the slots here run on the
GUI thread and only tell widgets and the model what to show.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThreadPool

from cci_uploader.pipeline import ConnectionDown, EntryChanged, ImportQueue, SessionLost, Status
from cci_uploader.plan import with_pairs
from cci_uploader.ui.workers import jobs
from cci_uploader.ui.workers.tasks import ServerTasks, explain, run_in_background

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QWidget

    from cci_uploader import omero as om
    from cci_uploader.config import Config
    from cci_uploader.progress import ProgressMeter
    from cci_uploader.ui.connecting import ConnectFlow
    from cci_uploader.ui.expiry import ExpiryFlow
    from cci_uploader.ui.intake import FileIntake
    from cci_uploader.ui.models.files import FileModel
    from cci_uploader.ui.offline import OfflineFlow
    from cci_uploader.ui.settings import AppSettings
    from cci_uploader.ui.widgets.action_bar import ActionBar
    from cci_uploader.ui.widgets.connection_bar import ConnectionBar
    from cci_uploader.ui.widgets.file_panel import FilePanel
    from cci_uploader.ui.widgets.group_picker import GroupPicker
    from cci_uploader.ui.widgets.pairs_editor import PairsEditor
    from cci_uploader.ui.widgets.status_line import StatusLine
    from cci_uploader.workspace import Workspace

log = logging.getLogger(__name__)

EXPIRED_NOT_NOW = (
    "not uploaded: the session expired. Connect with a new token and press Retry failed."
)
OFFLINE_STOPPED = (
    "not uploaded: the connection to OMERO was lost. Reconnect, then press Retry failed."
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
        tasks: ServerTasks,
        connecting: ConnectFlow,
        intake: FileIntake,
        expiry: ExpiryFlow,
        offline: OfflineFlow,
        connection_bar: ConnectionBar,
        group_picker: GroupPicker,
        pairs_editor: PairsEditor,
        file_panel: FilePanel,
        action_bar: ActionBar,
        status_line: StatusLine,
        workspace: Workspace,
        parent: QWidget,
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
        self.tasks = tasks
        self.queue: ImportQueue | None = None
        self.running = False
        self.paused = False  # the session expired; the token dialog is open
        self.stopping = False  # Cancel was pressed: the summary says Stopped
        self.connecting = connecting
        self.connecting.changed.connect(self._refresh_actions)
        self.intake = intake
        self.intake.changed.connect(self._refresh_actions)
        self.expiry = expiry
        self.expiry.token_page_requested.connect(self.connecting.open_token_page)
        self.expiry.rejoined.connect(self._on_rejoined)
        self.expiry.refused.connect(self._on_refused)
        self.offline = offline
        self.offline.reconnected.connect(self._on_reconnected)
        self.offline.stopped.connect(self._on_offline_stopped)
        self.offline.expired.connect(self._on_offline_expired)
        file_panel.paths_chosen.connect(self.add_paths)
        file_panel.clear_requested.connect(self._on_clear_requested)
        file_panel.remove_requested.connect(self._on_remove_requested)
        action_bar.import_requested.connect(self._on_import_requested)
        action_bar.cancel_requested.connect(self._on_cancel_requested)
        action_bar.retry_requested.connect(self._on_retry_requested)
        self._refresh_actions()

    # -- helpers ----------------------------------------------------------

    def _explain(self, exc: BaseException) -> str:
        return explain(exc, self.log_path)

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
        self.action_bar.show_state(
            waiting="offline" if self.offline.paused else "token" if self.paused else None,
            running=self.running,
            connected=self.conn is not None,
            scanning=bool(self.scanning),
            has_rows=bool(rows),
            can_import=can_import,
            can_retry=failed,
        )
        self.file_panel.set_editable(not busy)
        self.group_picker.setEnabled(not busy and self.conn is not None)
        self.connection_bar.set_locked(busy)

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

    @property
    def conn(self) -> om.Connection | None:
        """The OMERO session the queue uses (None before Connect, after expiry)."""
        return self.connecting.conn

    @conn.setter
    def conn(self, conn: om.Connection | None) -> None:
        self.connecting.conn = conn

    def _replace_connection(self, conn: om.Connection) -> None:
        self.connecting.replace(conn)

    def _on_key_changed(self, key: str) -> None:
        self.connecting.load_values(key)

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
        self.pairs_editor.confirm_remembered(self._import)

    def _import(self) -> None:
        if self.busy or self.conn is None:
            return
        # A value typed but not added still counts: it is added now, and said so.
        pairs, added = self.pairs_editor.take()
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
            self.action_bar.set_stopping()
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
