"""Python's cyclic garbage collector, run only on the GUI thread between events.

Left to itself, the collector runs in whichever thread happens to allocate
(a worker reading a file, the middle of a signal delivery) and can free Qt
wrappers there.  PySide6 then crashes now and then.  pyqtgraph, calibre and
others do the same as here: turn automatic collection off and collect from a
timer on the GUI thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadGC(QObject):
    """Collects garbage every ``interval_ms`` on the thread that created it.

    Parameters
    ----------
    interval_ms : int
        How often the generation counts are checked.
    """

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        # What exists at start-up (modules, classes: ~150,000 objects) lives for the whole
        # run; frozen, a full collection skips it and takes milliseconds, not ~90 ms.
        gc.freeze()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_timeout)
        self.timer.start(interval_ms)

    def _on_timeout(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Collect once more and give collection back to Python."""
        self.timer.stop()
        gc.unfreeze()
        gc.collect()
        if self._was_enabled:
            gc.enable()
