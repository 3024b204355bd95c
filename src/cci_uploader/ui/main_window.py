"""The one window: connection, group, pairs, files, Import, progress."""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from cci_uploader.progress import ProgressMeter
from cci_uploader.ui.connecting import ConnectFlow
from cci_uploader.ui.dialogs.about import AboutDialog
from cci_uploader.ui.dialogs.guide import GuideWindow
from cci_uploader.ui.dialogs.history import show_history_window
from cci_uploader.ui.dialogs.image import ImageDialog
from cci_uploader.ui.dialogs.settings import SettingsDialog
from cci_uploader.ui.expiry import ExpiryFlow
from cci_uploader.ui.intake import FileIntake
from cci_uploader.ui.models.files import FileModel
from cci_uploader.ui.offline import OfflineFlow
from cci_uploader.ui.session import UploadSession
from cci_uploader.ui.widgets.action_bar import ActionBar
from cci_uploader.ui.widgets.banner import SandboxBanner
from cci_uploader.ui.widgets.connection_bar import ConnectionBar
from cci_uploader.ui.widgets.file_panel import FilePanel, FilePicker, pick_files, pick_folder
from cci_uploader.ui.widgets.focus_ring import FocusRing
from cci_uploader.ui.widgets.group_picker import GroupPicker
from cci_uploader.ui.widgets.pairs_editor import PairsEditor
from cci_uploader.ui.widgets.pause_banner import PauseBanner
from cci_uploader.ui.widgets.status_line import StatusLine
from cci_uploader.ui.workers.tasks import ServerTasks
from cci_uploader.ui.workers.tasks import explain as explain_error
from cci_uploader.workspace import Workspace, user_workspace

if TYPE_CHECKING:
    from collections.abc import Callable

    from cci_uploader.config import Config
    from cci_uploader.training import ImageRecord
    from cci_uploader.ui.settings import AppSettings

# In the PyInstaller bundle docs/ sits in the bundle folder; else in the source tree.
_DOCS = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[3])) / "docs"
USER_GUIDE = _DOCS / "user-guide.md"
# The size the window prefers; smaller screens get it maximised.
PREFERRED = (1440, 880)


def open_in_browser(url: str) -> None:
    """Open ``url`` with the system's browser."""
    QDesktopServices.openUrl(QUrl(url))


class MainWindow(QMainWindow):
    """Assembles the widgets; :class:`UploadSession` does the work behind them.

    Parameters
    ----------
    config : Config
        The facility config (Settings overrides already applied).
    settings : AppSettings
        What the window remembers.
    log_path : Path
        The log file, for About's diagnostics.
    sandbox_token : str, optional
        Set in training-sandbox mode: prefilled, and a banner says so.
    open_url, choose_files, choose_folder, show_history : callable
        The browser, the file dialogs and the history window; tests pass their own.
    inspect_image : callable, optional
        The training sandbox: what the stand-in holds for an image, shown on
        double-click instead of OMERO.web (which the sandbox does not have).
    workspace : Workspace, optional
        The history and cache to use: the user's by default; the sandbox's own in
        training, so nothing done there reaches the user's history.
    """

    def __init__(
        self,
        config: Config,
        settings: AppSettings,
        log_path: Path,
        sandbox_token: str | None = None,
        open_url: Callable[[str], None] = open_in_browser,
        choose_files: FilePicker = pick_files,
        choose_folder: FilePicker = pick_folder,
        show_history: Callable[[QWidget], object] | None = None,
        inspect_image: Callable[[int], ImageRecord] | None = None,
        workspace: Workspace | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace or user_workspace()
        self.setWindowTitle("CCI OMERO Uploader" + (" (training sandbox)" if sandbox_token else ""))
        self.settings = settings
        self.log_path = log_path
        self.sandbox = sandbox_token is not None
        self._open_url = open_url
        self._show_history = show_history
        self._inspect_image = inspect_image
        self.image_dialog: ImageDialog | None = None
        self.guide_window: GuideWindow | None = None

        self.connection_bar = ConnectionBar(config.server)
        self.group_picker = GroupPicker()
        self.pairs_editor = PairsEditor(config.keys)
        self.pairs_editor.set_pairs(settings.last_pairs(), remembered=True)
        self.pause_banner = PauseBanner()
        self.model = FileModel(self)
        self.file_panel = FilePanel(self.model, choose_files, choose_folder)
        self.action_bar = ActionBar()
        self.meter = ProgressMeter()
        self.status_line = StatusLine(self.meter)
        self.statusBar().addWidget(self.status_line, 1)
        self.tasks = ServerTasks(self)
        explain = functools.partial(explain_error, log_path=log_path)
        self.connecting = ConnectFlow(
            tasks=self.tasks,
            connection_bar=self.connection_bar,
            group_picker=self.group_picker,
            pairs_editor=self.pairs_editor,
            settings=settings,
            config=lambda: self.session.config,
            explain=explain,
            open_url=open_url,
            window=self,
            sandbox=self.sandbox,
        )
        intake = FileIntake(
            model=self.model,
            status_line=self.status_line,
            config=lambda: self.session.config,
            explain=explain,
            parent=self,
        )
        expiry = ExpiryFlow(
            tasks=self.tasks,
            server=lambda: self.session.config.server,
            explain=explain,
            window=self,
        )
        offline = OfflineFlow(
            tasks=self.tasks,
            banner=self.pause_banner,
            connection_bar=self.connection_bar,
            explain=explain,
            parent=self,
        )
        self.session = UploadSession(
            config=settings.apply_microscope(config),
            facility_microscope=config.default_microscope,
            settings=settings,
            log_path=log_path,
            model=self.model,
            meter=self.meter,
            tasks=self.tasks,
            connecting=self.connecting,
            intake=intake,
            expiry=expiry,
            offline=offline,
            connection_bar=self.connection_bar,
            group_picker=self.group_picker,
            pairs_editor=self.pairs_editor,
            file_panel=self.file_panel,
            action_bar=self.action_bar,
            status_line=self.status_line,
            workspace=self.workspace,
            parent=self,
        )
        self.file_panel.image_opened.connect(self._on_image_opened)
        self.pairs_editor.rendered.connect(self._order_tabs)
        self._build_layout(sandbox_token)
        self._build_menus()
        self._order_tabs()
        self.focus_ring = FocusRing(self)
        self.setAcceptDrops(True)
        self.place_on_screen()

    def place_on_screen(self) -> None:
        """Where it was last (if that still fits this screen), else as large as fits."""
        available = self.screen().availableGeometry()
        saved = self.settings.window_geometry()
        if saved and self.restoreGeometry(QByteArray(saved)):
            frame = self.frameGeometry()
            if available.contains(frame.center()) and frame.width() <= available.width():
                return
        width, height = PREFERRED
        if available.width() < width + 40 or available.height() < height + 60:
            self.setWindowState(Qt.WindowState.WindowMaximized)
            self.resize(available.size())  # what the window manager would do
            return
        self.resize(width, height)
        frame = self.frameGeometry()
        frame.moveCenter(available.center())
        self.move(frame.topLeft())

    def _order_tabs(self) -> None:
        """Tab goes through the controls in reading order, the pair list included."""
        parts = (
            self.connection_bar,
            self.group_picker,
            self.pairs_editor,
            self.pause_banner,
            self.file_panel,
            self.action_bar,
        )
        chain = [control for part in parts for control in part.tab_chain()]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _build_layout(self, sandbox_token: str | None) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        if sandbox_token is not None:
            self.banner: SandboxBanner | None = SandboxBanner()
            layout.addWidget(self.banner)
            self.connection_bar.set_token(sandbox_token)
        else:
            self.banner = None
        layout.addWidget(self.connection_bar)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        batch = QGroupBox("For every image of this batch")
        batch_layout = QHBoxLayout(batch)
        batch_layout.addWidget(self.group_picker, 0, Qt.AlignmentFlag.AlignTop)
        batch_layout.addSpacing(16)
        batch_layout.addWidget(self.pairs_editor, 1)
        layout.addWidget(batch)
        layout.addWidget(self.pause_banner)
        files = QGroupBox("Files (drop files or folders here)")
        files_layout = QVBoxLayout(files)
        files_layout.addWidget(self.file_panel)
        layout.addWidget(files, 1)
        layout.addWidget(self.action_bar)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        settings_menu = bar.addMenu("&Settings")
        self.settings_action = settings_menu.addAction(
            "&Settings… (this PC's microscope; the server is fixed in the training sandbox)"
            if self.sandbox
            else "&Settings… (server, this PC's microscope)"
        )
        self.settings_action.triggered.connect(self._on_settings_triggered)
        history_menu = bar.addMenu("&History")
        self.history_action = history_menu.addAction("&Upload history…")
        self.history_action.triggered.connect(self._on_history_triggered)
        help_menu = bar.addMenu("Hel&p")
        self.guide_action = help_menu.addAction("User &guide")
        self.guide_action.triggered.connect(self._on_guide_triggered)
        self.about_action = help_menu.addAction("&About…")
        self.about_action.triggered.connect(self._on_about_triggered)

    # -- menus ----------------------------------------------------------

    def _on_settings_triggered(self) -> None:
        config = self.session.config
        self.settings_dialog = SettingsDialog(
            config.server,
            config.web_url,
            config.token_url,
            self,
            microscope=self.settings.default_microscope(),
            facility_microscope=self.session.facility_microscope or "",
            fixed_connection=self.sandbox,
        )
        self.settings_dialog.accepted.connect(self._on_settings_accepted)
        self.settings_dialog.open()

    def _on_settings_accepted(self) -> None:
        dialog = self.settings_dialog
        if not self.sandbox:
            server, web_url, token_url = dialog.values()
            self.settings.save_overrides(server, web_url, token_url)
            self.session.apply_settings(server, web_url, token_url)
        self.settings.set_default_microscope(dialog.microscope())
        self.session.apply_microscope(dialog.microscope())

    def _on_history_triggered(self) -> None:
        if self._show_history is not None:
            self._show_history(self)
            return
        self.history_window = show_history_window(
            self,
            config=self.session.config,
            connection=lambda: self.session.conn,
            tasks=self.session.tasks,
            history=self.workspace.history,
        )

    def _on_guide_triggered(self) -> None:
        self.guide_window = GuideWindow(USER_GUIDE, self)
        self.guide_window.show()

    def _on_image_opened(self, image_id: int) -> None:
        if self._inspect_image is None:
            self._open_url(f"{self.session.config.web_url}img_detail/{image_id}/")
            return
        self.image_dialog = ImageDialog(self._inspect_image(image_id), self)
        self.image_dialog.open()

    def _on_about_triggered(self) -> None:
        self.about_dialog = AboutDialog(self.log_path, self.session.config.server, self)
        self.about_dialog.open()

    # -- drag and drop --------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and folders from the file manager."""
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Add the dropped files and folders."""
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.session.add_paths(paths)
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the queue (after the current chunk) and leave the session open."""
        if self.session.running:
            self.stop_box = QMessageBox(
                QMessageBox.Icon.Question,
                "Stop uploading?",
                "Files are still uploading. Stop after the current chunk and quit?\n"
                "The file being uploaded is not imported; start it again later.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            self.stop_box.setDefaultButton(QMessageBox.StandardButton.No)  # Enter keeps going
            if self.stop_box.exec() != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.settings.set_window_geometry(bytes(self.saveGeometry().data()))
        self.session.shutdown()
        event.accept()
