"""The event loop keeps turning while a 1 GiB file uploads.

The stand-in runs in its own process here, as an OMERO server does: in this
process it would share the interpreter lock with the window, and its own work
(freeing the 1 GiB it kept in memory after the import) would be measured as
the window's.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from cci_uploader.pipeline import Status
from cci_uploader.sandbox import DEMO_TOKEN
from cci_uploader.ui.main_window import MainWindow
from tests.ui.uihelpers import Outside, add, connect, press, statuses

GIB = 1024**3
MAX_GAP_S = 0.100


def _big_czi(samples: Path, folder: Path) -> Path:
    """A valid CZI followed by 1 GiB of padding (readers ignore bytes past the last segment)."""
    path = folder / "big.czi"
    block = bytes(range(256)) * (64 * 1024 * 1024 // 256)
    with path.open("wb") as out:
        out.write((samples / "czi" / "tiles_z.czi").read_bytes())
        for _ in range(GIB // len(block)):
            out.write(block)
    return path


@pytest.fixture
def server_process() -> Iterator[str]:
    """The stand-in in a separate process; yields its address."""
    exe = Path(sys.executable).with_name("cci-uploader")
    with subprocess.Popen(
        [str(exe), "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            address = next(
                line.split(": ", 1)[1].strip()
                for line in proc.stdout
                if line.startswith("server: ")
            )
            yield address
        finally:
            proc.terminate()


@pytest.mark.slow
def test_largest_event_loop_gap_during_a_1_gib_upload_is_at_most_100_ms(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    server_process: str,
    outside: Outside,
    samples: Path,
    tmp_path: Path,
) -> None:
    big = _big_czi(samples, tmp_path)
    window = make_window(server=server_process)
    connect(qtbot, window, DEMO_TOKEN)
    add(qtbot, window, outside, big, rows=1)

    ticks: list[float] = []
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()
    press(qtbot, window.action_bar.import_button)
    started = time.perf_counter()
    qtbot.waitUntil(lambda: not window.session.running, timeout=300_000)
    probe.stop()
    elapsed = time.perf_counter() - started

    assert statuses(window) == [Status.UPLOADED]
    row = window.model.rows()[0]
    assert len(row.image_ids) == 1
    assert row.state.total_bytes == big.stat().st_size > GIB
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(gaps) > 10
    largest = max(gaps)
    print(
        f"\n1 GiB upload: {elapsed:.1f} s, {len(gaps)} probe ticks, "
        f"largest gap {largest * 1000:.1f} ms"
    )
    assert largest <= MAX_GAP_S, f"the event loop stalled for {largest * 1000:.0f} ms"
