"""Screenshots of the window under Xvfb and openbox, against the training sandbox.

Usage: ``.venv/bin/python tools/screenshots.py [--out docs/screenshots]``

Needs Debian's ``xvfb`` and ``openbox`` (the title bar), and Qt's xcb libraries
(``apt-get install xvfb openbox libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1``).
For each screen, a 1366x768 microscope-PC monitor at 100 % and 1920x1080 at
150 % (``QT_SCALE_FACTOR=1.5``), it starts its own X server and window manager,
then:

1. measures start to first paint of ``cci-uploader gui --sandbox`` (three runs);
2. drives the real window and saves the whole screen as ``empty-<screen>.png``,
   ``in-progress-<screen>.png`` (one file uploading), ``paused-<screen>.png``
   (the connection dropped: the queue waits for Reconnect) and
   ``finished-<screen>.png`` (green, orange and red rows).

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
# (width, height, QT_SCALE_FACTOR, the name's suffix)
SCREENS = ((1366, 768, "1", "1366x768"), (1920, 1080, "1.5", "1920x1080-150"))


@contextmanager
def xvfb(width: int, height: int) -> Iterator[str]:
    """A private X server with openbox on it (for a real title bar); yields its DISPLAY."""
    read, write = os.pipe()
    screen = f"{width}x{height}x24"
    with subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    ) as proc:
        os.close(write)
        try:
            with os.fdopen(read) as pipe:
                display = ":" + pipe.readline().strip()
            with subprocess.Popen(
                ["openbox"],
                env={**os.environ, "DISPLAY": display},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ) as wm:
                time.sleep(1.0)  # openbox takes the screen before the window maps
                try:
                    yield display
                finally:
                    wm.terminate()
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


def shoot(out: Path, work: Path, suffix: str) -> None:
    """Drive the window and save the four screenshots of one screen."""
    from PySide6.QtCore import QCoreApplication, QModelIndex
    from PySide6.QtWidgets import QApplication

    from cci_uploader import omero as om
    from cci_uploader.cli.sandbox import training_for
    from cci_uploader.config import Config
    from cci_uploader.pipeline import ImportQueue, Status
    from cci_uploader.plan import plan
    from cci_uploader.sandbox import DEMO_TOKEN, SandboxServer
    from cci_uploader.scan import scan_paths
    from cci_uploader.ui.app import build_window
    from cci_uploader.ui.gc_guard import MainThreadGC
    from cci_uploader.ui.models.files import STATUS_ROLE
    from cci_uploader.ui.settings import AppSettings
    from cci_uploader.workspace import throwaway_workspace

    app = QApplication([])
    collector = MainThreadGC()  # as the app does

    def wait(condition: Callable[[], bool], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")
            QCoreApplication.processEvents()
            time.sleep(0.002)

    def grab(name: str) -> None:
        for _ in range(40):
            QCoreApplication.processEvents()
            time.sleep(0.01)
        screen = app.primaryScreen()
        pixmap = screen.grabWindow(0)  # the whole screen: title bar and all
        path = out / f"{name}-{suffix}.png"
        pixmap.save(str(path))
        print(f"saved {path} ({pixmap.width()}x{pixmap.height()})")

    big = big_czi(work, 400)
    notes = work / "notes.docx"
    notes.write_bytes(b"PK\x03\x04 meeting notes, not microscopy")
    # The sandbox's own throwaway history and cache: nothing reaches the user's.
    with SandboxServer(port=0) as server, throwaway_workspace() as workspace:
        # Someone uploaded one of the files before: it will show orange.
        conn = om.connect(server.address, DEMO_TOKEN)
        seed = scan_paths([SAMPLES / "czi" / "tiles_z.czi"], Config())
        list(ImportQueue(plan(seed, Config()), history=None).run(conn))
        conn.close()
        settings = AppSettings(work / f"gui-{suffix}.ini")
        window = build_window(
            Config(), settings, work / "cci-uploader.log", training_for(server), workspace
        )
        window.show()
        wait(window.isVisible)
        grab("empty")

        window.connection_bar.connect_button.click()
        wait(lambda: window.session.conn is not None and not window.session.tasks.busy)
        editor = window.pairs_editor
        editor.value_combo.setEditText("Mouse 7")
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

        def big_halfway() -> bool:  # the row's latest state (the model replaces it)
            state = window.model.row_for(big).state
            return bool(state.total_bytes) and state.done_bytes > state.total_bytes * 0.4

        wait(big_halfway)
        grab("in-progress")
        server.faults.cut_after_bytes = 0  # the network drops during the next chunk
        wait(lambda: window.pause_banner.isVisible() and not window.session.running)
        grab("paused")
        window.pause_banner.reconnect_button.click()
        wait(lambda: window.session.running)
        wait(lambda: not window.session.running, timeout=900)
        view = window.file_panel.view
        red = next(r for r, row in enumerate(window.model.rows()) if row.status is Status.ERROR)
        view.setCurrentIndex(window.model.index(red, 0))  # its full message shows below
        view.clearSelection()
        grab("finished")
        window.session.shutdown()
        window.close()
    collector.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--one", nargs=2, metavar=("SUFFIX", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:  # the child run: the display and scale factor are already set
        shoot(args.out.resolve(), Path(args.one[1]), args.one[0])
        return 0
    for width, height, scale, suffix in SCREENS:
        with (
            tempfile.TemporaryDirectory(prefix="cci-shots-") as tmp,
            xvfb(width, height) as display,
        ):
            work = Path(tmp)
            env = {
                **os.environ,
                "DISPLAY": display,
                "QT_QPA_PLATFORM": "xcb",
                "QT_SCALE_FACTOR": scale,
                "XDG_CONFIG_HOME": str(work / "config"),
                "XDG_STATE_HOME": str(work / "state"),
                "XDG_CACHE_HOME": str(work / "cache"),
                "XDG_DATA_HOME": str(work / "data"),
                "CCI_UPLOADER_LOG_DIR": str(work / "logs"),
                "TZ": "Europe/Stockholm",
            }
            os.environ.update(env)
            time.tzset()
            runs = [first_paint_seconds(work) for _ in range(3)]
            print(
                f"{suffix}: start to first paint: " + ", ".join(f"{r * 1000:.0f} ms" for r in runs)
            )
            subprocess.run(
                [sys.executable, __file__, "--out", str(args.out), "--one", suffix, str(work)],
                env=env,
                check=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
