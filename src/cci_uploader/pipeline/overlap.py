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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
    parked: list[Flight] = []
    active: Flight | None = None
    exhausted = False

    def step(flight: Flight) -> QueueEvent | None:
        try:
            return next(flight.events)
        except StopIteration:
            return None
        except BaseException as exc:
            others = [f for f in (active, *parked) if f is not None and f is not flight]
            for other in others:
                close = getattr(other.events, "close", None)
                if close is not None:
                    close()
            raise Interrupted(flight.index, [f.index for f in others]) from exc

    while True:
        # Only the oldest waiting file goes on: files end in queue order.
        while parked and parked[0].at <= time.monotonic():
            flight = parked[0]
            event = step(flight)
            if event is None:
                parked.pop(0)
                continue
            flight.at = flight.due() or 0.0
            yield event
        if active is None and not exhausted and len(parked) < max(1, max_waiting) and more():
            try:
                active = next(flights)
            except StopIteration:
                exhausted = True
        if active is None:
            if not parked:
                return
            sleep(max(0.0, parked[0].at - time.monotonic()))
            continue
        event = step(active)
        if event is None:
            active = None
            continue
        due = active.due()
        if due is not None and max_waiting > 0:  # waiting on OMERO only: step aside
            active.at = due
            parked.append(active)
            active = None
        yield event
