"""Opens the real window on a screen of a given size and scale; prints what does not fit.

Run by ``test_screen_fit.py`` in a fresh process, because the scale factor and
the screen size must be set before Qt starts::

    python fitcheck.py WIDTH HEIGHT SCALE SAMPLES_DIR

It prints one JSON object: the screen, the window's frame, and ``problems``,
each a control that is hidden, cut off or outside the screen.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    width, height, scale, samples = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    work = Path(tempfile.mkdtemp(prefix="fitcheck-"))
    screens = {
        "screens": [
            {"name": "S", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96}
        ]
    }
    (work / "screen.json").write_text(json.dumps(screens))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={work / 'screen.json'}"
    os.environ["QT_SCALE_FACTOR"] = scale
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        os.environ[var] = str(work / var.lower())
    os.environ["CCI_UPLOADER_LOG_DIR"] = str(work / "logs")

    from PySide6.QtCore import QCoreApplication, QRect
    from PySide6.QtWidgets import QApplication, QWidget

    from cci_uploader.cli.sandbox import training_for
    from cci_uploader.config import Config
    from cci_uploader.sandbox import SandboxServer
    from cci_uploader.ui.app import build_window
    from cci_uploader.ui.models.files import PROGRESS, STATUS
    from cci_uploader.ui.settings import AppSettings
    from cci_uploader.ui.widgets.file_panel import STATUS_MIN

    app = QApplication([])
    assert app is not None

    def settle(condition: object = None, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            QCoreApplication.processEvents()
            if condition is None or condition():  # type: ignore[operator]
                if condition is None:
                    time.sleep(0.05)
                    QCoreApplication.processEvents()
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there")
            time.sleep(0.005)

    with SandboxServer(port=0) as server:
        settings = AppSettings(work / "gui.ini")
        settings.set_last_pairs([("Sample", "Mouse 7"), ("Operator", "kim"), ("Grid", "B4")])
        window = build_window(Config(), settings, work / "log", training_for(server))
        window.show()
        settle(window.isVisible)
        window.session.add_paths([Path(samples) / "czi", Path(samples) / "emd"])
        settle(lambda: window.model.rowCount() > 0 and not window.session.scanning)
        # The tallest state: the lost-connection box is shown too.
        window.pause_banner.show_paused("The connection to OMERO was lost while sending. " * 2)
        window.status_line.show_text("Done: 7 uploaded, 1 already on the server, 0 errors. " * 2)
        settle()

        available = window.screen().availableGeometry()
        frame = window.frameGeometry()
        problems: list[str] = []
        if not available.contains(frame):
            problems.append(f"window frame {frame.getRect()} is outside the screen")
        inside = window.rect()
        controls: dict[str, QWidget] = {
            "Get token": window.connection_bar.get_token_button,
            "Token field": window.connection_bar.token_edit,
            "Connect": window.connection_bar.connect_button,
            "connection state": window.connection_bar.state_label,
            "Group": window.group_picker.combo,
            "Key": window.pairs_editor.key_combo,
            "Value": window.pairs_editor.value_combo,
            "Add pair": window.pairs_editor.add_button,
            "Reconnect": window.pause_banner.reconnect_button,
            "Stop the queue": window.pause_banner.stop_button,
            "Add files": window.file_panel.add_files_button,
            "Add folder": window.file_panel.add_folder_button,
            "Remove selected": window.file_panel.remove_button,
            "Clear": window.file_panel.clear_button,
            "file list": window.file_panel.view,
            "detail line": window.file_panel.details,
            "Retry failed": window.action_bar.retry_button,
            "Cancel": window.action_bar.cancel_button,
            "Import": window.action_bar.import_button,
            "status text": window.status_line.label,
            "progress bar": window.status_line.bar,
            "menu bar": window.menuBar(),
        }
        for number, button in enumerate(window.pairs_editor.remove_buttons()):
            controls[f"Remove pair {number + 1}"] = button
        for name, widget in controls.items():
            if not widget.isVisible():
                problems.append(f"{name} is hidden")
                continue
            top_left = widget.mapTo(window, widget.rect().topLeft())
            rect = QRect(top_left, widget.size())
            if not inside.contains(rect):
                problems.append(f"{name} {rect.getRect()} is outside the window {inside.getRect()}")
            shown = widget.visibleRegion().boundingRect()
            if shown.size() != widget.size() and name not in ("file list",):
                cut = f"{shown.size().toTuple()} of {widget.size().toTuple()}"
                problems.append(f"{name} is cut: {cut}")
            hint = widget.minimumSizeHint()
            if widget.width() < hint.width() or widget.height() < hint.height():
                problems.append(f"{name} is squeezed: {widget.size().toTuple()} < {hint.toTuple()}")
        view = window.file_panel.view
        header = view.header()
        viewport = view.viewport().width()
        progress_end = header.sectionViewportPosition(PROGRESS) + header.sectionSize(PROGRESS)
        if progress_end > viewport:
            problems.append(f"the Progress column ends at {progress_end} > {viewport}")
        status_room = viewport - header.sectionViewportPosition(STATUS)
        if status_room < STATUS_MIN:
            problems.append(f"the Status column has {status_room} px < {STATUS_MIN}")
        if view.height() < 120:
            problems.append(f"the file list is only {view.height()} px tall")
        result = {
            "screen": available.getRect(),
            "frame": frame.getRect(),
            "maximised": window.isMaximized(),
            "status_px": status_room,
            "list_px": view.height(),
            "problems": problems,
        }
        window.session.shutdown()
        window.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
