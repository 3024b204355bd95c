"""Screenshots of the window under Xvfb, against the training sandbox.

Usage: ``.venv/bin/python tools/screenshots.py [--out docs/screenshots]``

Starts its own Xvfb (Debian: ``apt-get install xvfb libxcb-cursor0 libxcb-icccm4
libxcb-keysyms1``, the last three for Qt's xcb plugin), then:

1. measures start to first paint of ``cci-uploader gui --sandbox`` (three runs);
2. drives the real window in this process and saves ``empty.png``,
   ``in-progress.png`` (a queue part-way, one file uploading) and
   ``finished.png`` (green, orange and red rows).

Nothing is written outside a temporary folder except the screenshots.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
SCREEN = "1600x1000x24"


@contextmanager
def xvfb() -> Iterator[str]:
    """A private X server; yields its DISPLAY."""
    read, write = os.pipe()
    with subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    ) as proc:
        os.close(write)
        try:
            with os.fdopen(read) as pipe:
                display = ":" + pipe.readline().strip()
            yield display
        finally:
            proc.terminate()


def first_paint_seconds(home: Path) -> float:
    """Start ``cci-uploader gui --sandbox`` and time it until its first paint is logged."""
    log = home / "logs" / "cci-uploader.log"
    log.unlink(missing_ok=True)
    exe = Path(sys.executable).with_name("cci-uploader")
    started = time.perf_counter()
    with subprocess.Popen(
        [str(exe), "gui", "--sandbox"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as proc:
        try:
            while time.perf_counter() - started < 60:
                if log.exists() and "first paint" in log.read_text():
                    return time.perf_counter() - started
                if proc.poll() is not None:
                    raise RuntimeError("the window did not start; try QT_DEBUG_PLUGINS=1")
                time.sleep(0.005)
            raise RuntimeError("the window did not paint within 60 s")
        finally:
            proc.terminate()


def big_czi(folder: Path, mib: int) -> Path:
    """A valid CZI with ``mib`` MiB of padding, so an upload takes a moment."""
    path = folder / "session_overview.czi"
    block = bytes(range(256)) * (4 * 1024 * 1024 // 256)
    with path.open("wb") as out:
        out.write((SAMPLES / "czi" / "tiles_z.czi").read_bytes())
        for _ in range(mib // 4):
            out.write(block)
    return path


def shoot(out: Path, work: Path) -> None:
    """Drive the window and save the three screenshots."""
    from PySide6.QtCore import QCoreApplication, QModelIndex
    from PySide6.QtWidgets import QApplication

    from cci_uploader import omero as om
    from cci_uploader.config import Config
    from cci_uploader.pipeline import ImportQueue, Status
    from cci_uploader.sandbox import DEMO_TOKEN, SandboxServer
    from cci_uploader.scan import scan_paths
    from cci_uploader.ui.app import build_window
    from cci_uploader.ui.file_model import STATUS_ROLE
    from cci_uploader.ui.gc_guard import MainThreadGC
    from cci_uploader.ui.settings import AppSettings
    from cci_uploader.workspace import throwaway_workspace

    app = QApplication([])
    collector = MainThreadGC()  # as the app does

    def wait(condition: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")
            QCoreApplication.processEvents()
            time.sleep(0.002)

    def grab(window: QApplication | object, name: str) -> None:
        for _ in range(20):
            QCoreApplication.processEvents()
            time.sleep(0.01)
        screen = app.primaryScreen()
        pixmap = screen.grabWindow(window.winId())  # type: ignore[attr-defined]
        pixmap.save(str(out / name))
        print(f"saved {out / name} ({pixmap.width()}x{pixmap.height()})")

    big = big_czi(work, 900)
    notes = work / "notes.docx"
    notes.write_bytes(b"PK\x03\x04 meeting notes, not microscopy")
    # The sandbox's own throwaway history and cache: nothing reaches the user's.
    with SandboxServer(port=0) as server, throwaway_workspace() as workspace:
        # Someone uploaded one of the files before: it will show orange.
        conn = om.connect(server.address, DEMO_TOKEN)
        seed = scan_paths([SAMPLES / "czi" / "tiles_z.czi"], Config())
        list(ImportQueue(seed, [], history=None).run(conn))
        conn.close()
        settings = AppSettings(work / "gui.ini")
        window = build_window(Config(), settings, work / "cci-uploader.log", server, workspace)
        window.show()
        wait(window.isVisible)
        grab(window, "empty.png")

        window.connection_bar.connect_button.click()
        wait(lambda: window.session.conn is not None and not window.session.tasks.busy)
        editor = window.pairs_editor
        for key, value in (("Sample", "Mouse 7"), ("Sample", "Mouse 8")):
            editor.key_combo.setCurrentText(key)
            editor.value_combo.setEditText(value)
            editor.add_button.click()
        for paths, rows in (
            ([SAMPLES / "czi"], 5),
            ([big], 6),
            ([SAMPLES / "emd", SAMPLES / "tia", SAMPLES / "atlas", SAMPLES / "sem_tif"], 14),
            ([notes], 15),
        ):
            window.session.add_paths(paths)
            wait(lambda rows=rows: window.model.rowCount() == rows and not window.session.scanning)

        armed: list[bool] = []

        def arm_server_error(top_left: QModelIndex, *_: object) -> None:
            if (
                not armed
                and top_left.siblingAtColumn(0).data() == "fei_example_tem_stack.emd"
                and top_left.data(STATUS_ROLE) == Status.UPLOADING
            ):
                armed.append(True)
                server.faults.import_error = "the file ended before its last frame"

        window.model.dataChanged.connect(arm_server_error)
        window.action_bar.import_button.click()
        row = window.model.row_for(big)
        wait(lambda: row.total_bytes and row.done_bytes > row.total_bytes * 0.4)
        grab(window, "in-progress.png")
        wait(lambda: not window.session.running, timeout=600)
        view = window.file_panel.view
        red = next(r for r, row in enumerate(window.model.rows()) if row.status is Status.ERROR)
        view.setCurrentIndex(window.model.index(red, 0))  # its full message shows below
        view.clearSelection()
        grab(window, "finished.png")
        window.session.shutdown()
        window.close()
    collector.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cci-shots-") as tmp, xvfb() as display:
        work = Path(tmp)
        os.environ.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            XDG_CONFIG_HOME=str(work / "config"),
            XDG_STATE_HOME=str(work / "state"),
            XDG_CACHE_HOME=str(work / "cache"),
            CCI_UPLOADER_LOG_DIR=str(work / "logs"),
            TZ="Europe/Stockholm",
        )
        time.tzset()
        runs = [first_paint_seconds(work) for _ in range(3)]
        print("start to first paint: " + ", ".join(f"{r * 1000:.0f} ms" for r in runs))
        shoot(args.out.resolve(), work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
