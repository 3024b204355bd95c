"""Garbage is collected on the GUI thread, between events, and quickly."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from pytestqt.qtbot import QtBot

from cci_uploader.ui.gc_guard import MainThreadGC


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_cycles_are_freed_by_the_timer_on_the_gui_thread(qtbot: QtBot) -> None:
    # The autouse fixture already runs one guard; this one is checked directly.
    guard = MainThreadGC(interval_ms=20)
    threads: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            threads.append(threading.get_ident())

    gc.callbacks.append(record)
    try:
        assert not gc.isenabled()
        probe = Node()
        dead = weakref.ref(probe)
        del probe
        garbage = [Node() for _ in range(2000)]  # past the generation-0 threshold
        del garbage
        assert dead() is not None  # automatic collection is off
        qtbot.waitUntil(lambda: dead() is None)
        assert threads and set(threads) == {threading.main_thread().ident}
    finally:
        gc.callbacks.remove(record)
        guard.stop()
    assert not gc.isenabled()  # the fixture's guard is still active
