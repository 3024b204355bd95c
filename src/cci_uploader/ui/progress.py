"""Overall progress of a run: bytes, throughput and time left (no Qt)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 5.0


def human_bytes(size: float) -> str:
    """Bytes as ``12.3 MB`` (decimal units)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
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

    Parameters
    ----------
    clock : callable
        Monotonic seconds; tests pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._done: dict[int, int] = {}
        self._total: dict[int, int] = {}
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self, totals: dict[int, int]) -> None:
        """Start a run with the expected bytes of each entry."""
        self._total = dict(totals)
        self._done = dict.fromkeys(totals, 0)
        self._samples.clear()

    def update(self, index: int, done: int, total: int) -> None:
        """Record one entry's bytes; a finished entry passes ``done == total``."""
        if total:
            self._total[index] = total
        self._done[index] = min(done, self._total.get(index, done))
        now = self._clock()
        self._samples.append((now, self.done))
        while self._samples and now - self._samples[0][0] > WINDOW_S:
            self._samples.popleft()

    @property
    def done(self) -> int:
        """Bytes done in this run."""
        return sum(self._done.values())

    @property
    def total(self) -> int:
        """Bytes this run will move."""
        return sum(self._total.values())

    def throughput(self) -> float | None:
        """Bytes per second over the last few seconds, once measurable."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 - t0 < 0.2:
            return None
        return max(0.0, (b1 - b0) / (t1 - t0))

    def time_left(self) -> float | None:
        """Seconds left at the current throughput."""
        rate = self.throughput()
        if not rate:
            return None
        return max(0.0, (self.total - self.done) / rate)

    def describe(self) -> str:
        """``12.0 MB of 40.0 MB · 8.0 MB/s · 4 s left``."""
        parts = [f"{human_bytes(self.done)} of {human_bytes(self.total)}"]
        rate, left = self.throughput(), self.time_left()
        if rate is not None:
            parts.append(f"{human_bytes(rate)}/s")
        if left is not None:
            parts.append(f"{human_duration(left)} left")
        return " · ".join(parts)
