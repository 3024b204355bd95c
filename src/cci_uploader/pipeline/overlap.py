"""Several files in flight, without giving up the order the user sees.

A real server spends seconds importing each file after its upload is
verified.  Waiting for that before the next upload starts leaves the link
idle, so a file that is only waiting on OMERO steps aside: the next file
starts (checks, converts, uploads) while a bounded number wait beside it.
Uploads stay one at a time and in queue order.

Each file's work is a generator of events (a :class:`~.steps.FileJob`).
After each event, its ``due`` says whether it is only waiting on OMERO (a
time, :func:`time.monotonic`) or not (``None``); a waiting file is parked
and resumed when due, between the events of the one uploading; only the
oldest waiting file is resumed, so files end in queue order.  Everything
runs in the caller's thread: no Ice call is made from two places at once,
and a cancel is seen between events, as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from cci_uploader.pipeline.state import QueueEvent

MAX_IMPORTING = 4  # files "OMERO is importing" at once beside the one uploading


class Interrupted(Exception):
    """A file's work raised: every other file in flight was stopped (closed)."""

    def __init__(self, index: int, stopped: list[int]) -> None:
        super().__init__(index)
        self.index = index
        self.stopped = stopped


@dataclass
class Flight:
    """One file's work: its index, its events, and when it is next due."""

    index: int
    events: Iterator[QueueEvent]
    due: Callable[[], float | None]
    at: float = 0.0


def interleave(
    flights: Iterator[Flight],
    *,
    max_waiting: int = MAX_IMPORTING,
    more: Callable[[], bool] = lambda: True,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[QueueEvent]:
    """Run each file's events; one that is only waiting on OMERO waits beside the next.

    ``flights`` is taken lazily, in order, only while ``more()`` is true and
    fewer than ``max_waiting`` files are parked (0: one file at a time, as
    without overlap).  An exception in one file's work closes every other
    one in flight and is raised as :class:`Interrupted`, from the original.
    """
    return _Interleave(flights, max_waiting, more, sleep).run()


@dataclass
class _Interleave:
    """The state of one :func:`interleave`: the file going on, and those parked."""

    flights: Iterator[Flight]
    max_waiting: int
    more: Callable[[], bool]
    sleep: Callable[[float], None]
    parked: list[Flight] = field(default_factory=list)
    active: Flight | None = None
    exhausted: bool = False

    def run(self) -> Iterator[QueueEvent]:
        while True:
            yield from self._resume_parked()
            self._take_next()
            if self.active is None:
                if not self.parked:
                    return
                self.sleep(max(0.0, self.parked[0].at - time.monotonic()))
                continue
            event = self._step(self.active)
            if event is None:
                self.active = None
                continue
            due = self.active.due()
            if due is not None and self.max_waiting > 0:  # waiting on OMERO only: step aside
                self.active.at = due
                self.parked.append(self.active)
                self.active = None
            yield event

    def _resume_parked(self) -> Iterator[QueueEvent]:
        """Only the oldest waiting file goes on: files end in queue order."""
        while self.parked and self.parked[0].at <= time.monotonic():
            flight = self.parked[0]
            event = self._step(flight)
            if event is None:
                self.parked.pop(0)
                continue
            flight.at = flight.due() or 0.0
            yield event

    def _take_next(self) -> None:
        """Start the next file, if none is going on and there is room beside the parked."""
        if self.active is not None or self.exhausted or not self._room() or not self.more():
            return
        try:
            self.active = next(self.flights)
        except StopIteration:
            self.exhausted = True

    def _room(self) -> bool:
        return len(self.parked) < max(1, self.max_waiting)

    def _step(self, flight: Flight) -> QueueEvent | None:
        try:
            return next(flight.events)
        except StopIteration:
            return None
        except BaseException as exc:
            others = [f for f in (self.active, *self.parked) if f is not None and f is not flight]
            for other in others:
                close = getattr(other.events, "close", None)
                if close is not None:
                    close()
            raise Interrupted(flight.index, [f.index for f in others]) from exc
