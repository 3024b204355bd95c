"""Overall progress of a run: bytes, throughput and time left, for the CLI and the GUI."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

WINDOW_S = 5.0
SMOOTH_S = 8.0


def human_bytes(size: float) -> str:
    """Bytes in decimal (SI) units: ``999 B``, ``12.3 MB``, ``1.5 TB``."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """``1 h 02 min``, ``3 min 05 s`` or ``12 s``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


class ProgressMeter:
    """Tracks bytes done per file and measures throughput over the last seconds.

    The run's total never shrinks: a file's expected size only grows when its
    real (converted) size turns out larger, and a finished file counts in full.
    The time left follows a smoothed rate, so it does not jump with each chunk,
    and it reads "0 s" only once every file has finished.

    Parameters
    ----------
    clock : callable
        Monotonic seconds; tests pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._done: dict[int, int] = {}
        self._total: dict[int, int] = {}
        self._finished: set[int] = set()
        self._samples: deque[tuple[float, int]] = deque()
        self._smooth: float | None = None
        self._smoothed_at = 0.0

    def reset(self, totals: dict[int, int]) -> None:
        """Start a run with the expected bytes of each entry."""
        self._total = dict(totals)
        self._done = dict.fromkeys(totals, 0)
        self._finished = set()
        self._samples.clear()
        self._smooth = None

    def update(self, index: int, done: int, total: int) -> None:
        """Record one entry's bytes so far (``total`` is its real size once known)."""
        self._total[index] = max(total, self._total.get(index, 0))
        self._done[index] = min(done, self._total[index])
        self._sample()

    def finish(self, index: int) -> None:
        """The entry ended (uploaded, already there or failed): it counts as done in full."""
        self._total.setdefault(index, self._done.get(index, 0))
        self._done[index] = self._total[index]
        self._finished.add(index)
        self._sample()

    def _sample(self) -> None:
        now = self._clock()
        self._samples.append((now, self.done))
        while self._samples and now - self._samples[0][0] > WINDOW_S:
            self._samples.popleft()
        rate = self._window_rate()
        if rate is None:
            return
        if self._smooth is None:
            self._smooth = rate
        else:  # exponential smoothing with a time constant of SMOOTH_S
            weight = 1 - math.exp(-(now - self._smoothed_at) / SMOOTH_S)
            self._smooth += weight * (rate - self._smooth)
        self._smoothed_at = now

    def _window_rate(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 - t0 < 0.2:
            return None
        return max(0.0, (b1 - b0) / (t1 - t0))

    @property
    def done(self) -> int:
        """Bytes done in this run."""
        return sum(self._done.values())

    @property
    def total(self) -> int:
        """Bytes this run will move."""
        return sum(self._total.values())

    @property
    def finished(self) -> bool:
        """Every entry of the run has ended."""
        return bool(self._total) and len(self._finished) >= len(self._total)

    def position(self) -> tuple[int, int]:
        """``(N, M)``: the file being worked on, of how many."""
        count = len(self._total)
        return min(len(self._finished) + 1, count), count

    def throughput(self) -> float | None:
        """Bytes per second, smoothed over the last seconds, once measurable."""
        return self._smooth

    def time_left(self) -> float | None:
        """Seconds left at the smoothed rate; at least 1 until every file has ended."""
        if self.finished:
            return 0.0
        rate = self.throughput()
        if not rate:
            return None
        return max(1.0, (self.total - self.done) / rate)

    def describe(self) -> str:
        """``File 2 of 5 · 12.0 MB of 40.0 MB · 8.0 MB/s · 4 s left``."""
        number, count = self.position()
        parts = [f"{human_bytes(self.done)} of {human_bytes(self.total)}"]
        if count:
            parts.insert(0, f"File {number} of {count}")
        rate, left = self.throughput(), self.time_left()
        if rate is not None and not self.finished:
            parts.append(f"{human_bytes(rate)}/s")
        if self.finished:
            parts.append("0 s left")
        elif self.done >= self.total and self.total:
            parts.append("OMERO is finishing the import…")
        elif left is not None:
            parts.append(f"{human_duration(left)} left")
        return " · ".join(parts)
