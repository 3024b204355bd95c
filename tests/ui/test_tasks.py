"""The workers: the server FIFO keeps order, failures reach the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Generator

from pytestqt.qtbot import QtBot

from cci_uploader.ui.workers.tasks import (
    ServerTasks,
    WorkerCrashed,
    generate_in_background,
    run_in_background,
)

WAIT_MS = 10_000


def test_server_calls_run_one_at_a_time_in_order(qtbot: QtBot) -> None:
    tasks = ServerTasks()
    release = threading.Event()
    started: list[str] = []
    done: list[str] = []

    def slow() -> str:
        started.append("slow")
        assert release.wait(WAIT_MS / 1000)
        return "slow"

    def quick() -> str:
        started.append("quick")
        return "quick"

    tasks.call(slow, on_done=done.append, on_error=done.append)
    tasks.call(quick, on_done=done.append, on_error=done.append)
    qtbot.waitUntil(lambda: started == ["slow"], timeout=WAIT_MS)
    assert tasks.busy
    release.set()
    qtbot.waitUntil(lambda: done == ["slow", "quick"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not tasks.busy, timeout=WAIT_MS)
    assert started == ["slow", "quick"]


def test_a_generator_yields_then_returns_through_the_fifo(qtbot: QtBot) -> None:
    tasks = ServerTasks()
    seen: list[int] = []
    result: list[str] = []

    def count(n: int) -> Generator[int, None, str]:
        yield from range(n)
        return f"counted {n}"

    tasks.generate(count, 3, on_yield=seen.append, on_done=result.append, on_error=print)
    qtbot.waitUntil(lambda: result == ["counted 3"], timeout=WAIT_MS)
    assert seen == [0, 1, 2]


def test_a_runtime_error_in_a_generator_still_ends_the_worker(qtbot: QtBot) -> None:
    errors: list[BaseException] = []
    done: list[object] = []

    def broken() -> Generator[int, None, None]:
        yield 1
        raise RuntimeError("the reader broke")

    generate_in_background(
        broken, on_yield=lambda _: None, on_done=done.append, on_error=errors.append
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert isinstance(errors[0], WorkerCrashed)
    assert isinstance(errors[0].__cause__, RuntimeError)
    assert "the reader broke" in str(errors[0])
    assert not done


def test_a_background_call_hands_back_its_result_or_its_error(qtbot: QtBot) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def half(n: int) -> int:
        if n % 2:
            raise ValueError(f"{n} is odd")
        return n // 2

    run_in_background(half, 8, on_done=results.append, on_error=errors.append)
    run_in_background(half, 7, on_done=results.append, on_error=errors.append)
    qtbot.waitUntil(lambda: len(results) + len(errors) == 2, timeout=WAIT_MS)
    assert results == [4]
    assert [str(e) for e in errors] == ["7 is odd"]
