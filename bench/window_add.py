"""Adding a big folder to the window (offscreen): how long until every row is shown.

Builds a folder of copies of the shared samples (``bench/scan.py``'s mix,
2,144 files by default), presses Add folder in a window, and waits in the
event loop, as the app does, until the scan has ended and the rows are in the
list; then the same in a new window, the metadata now cached.  The scan alone
is timed too: the difference is the window's share (rows inserted into the
model, the view and its column widths, the status line).  On a shared machine
the GUI thread's own CPU time (``gui_cpu``) says more than the clock; the
first rows' time says how soon the list starts to fill.

Last line: ``window_add_s=<x> window_add_cached_s=<y> scan_s=<z> rescan_s=<w>
first_rows_s=<f> gui_cpu_s=<c> gui_cpu_cached_s=<d>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scan import make_folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2144)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cci-bench-window-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(work / var.lower())
    os.environ.pop("CCI_UPLOADER_CONFIG", None)
    try:
        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication

        from cci_uploader.config import Config
        from cci_uploader.scan import scan
        from cci_uploader.ui.main_window import MainWindow
        from cci_uploader.ui.settings import AppSettings

        folder = work / "data"
        files = make_folder(folder, args.files, "mix")
        app = QApplication.instance() or QApplication([])

        def add_once(name: str) -> tuple[float, int, float, float]:
            """Seconds until every row is in, rows, seconds to the first rows, GUI CPU s."""
            window = MainWindow(
                Config(),
                AppSettings(work / f"{name}.ini"),
                work / "logs" / "cci-uploader.log",
                open_url=lambda _: None,
                choose_files=lambda _: [],
                choose_folder=lambda _: [folder],
                show_history=lambda _: None,
            )
            window.show()
            app.processEvents()
            loop = QEventLoop()
            firsts: list[float] = []
            window.model.rowsInserted.connect(lambda *_: firsts.append(time.perf_counter()))
            window.session.intake.changed.connect(
                lambda: None if window.session.scanning else loop.quit()
            )
            start, cpu = time.perf_counter(), time.thread_time()
            window.file_panel.add_folder_button.click()
            if window.session.scanning:
                loop.exec()
            app.processEvents()  # the last rows' widths and paint
            elapsed = time.perf_counter() - start
            gui_cpu = time.thread_time() - cpu
            rows = window.model.rowCount()
            window.session.shutdown()
            window.close()
            window.deleteLater()
            app.processEvents()
            return elapsed, rows, firsts[0] - start, gui_cpu

        first, rows, first_rows, gui_cpu = add_once("first")
        cached, rows_again, _, gui_cpu_cached = add_once("cached")
        shutil.rmtree(work / "xdg_cache_home", ignore_errors=True)
        start = time.perf_counter()
        entries = scan([folder], Config()).entries
        scan_s = time.perf_counter() - start
        start = time.perf_counter()
        scan([folder], Config())
        rescan_s = time.perf_counter() - start
        assert rows == rows_again == len(entries), (rows, rows_again, len(entries))
        print(f"{files} files, {rows} rows, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print(f"window: {first:.2f} s, again with the metadata cached: {cached:.2f} s")
        print(f"scan alone: {scan_s:.2f} s, again: {rescan_s:.2f} s")
        print(f"first rows shown after {first_rows:.2f} s of {first:.2f} s")
        print(f"GUI thread's CPU time: {gui_cpu:.2f} s, cached {gui_cpu_cached:.2f} s")
        print(
            f"window_add_s={first:.2f} window_add_cached_s={cached:.2f} "
            f"scan_s={scan_s:.2f} rescan_s={rescan_s:.2f} first_rows_s={first_rows:.2f} "
            f"gui_cpu_s={gui_cpu:.2f} gui_cpu_cached_s={gui_cpu_cached:.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
