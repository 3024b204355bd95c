"""Server calls run one at a time, in order, on the thread pool."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase

from cci_uploader.omero import OmeroError

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]


def explain(exc: BaseException, log_path: Path) -> str:
    """A message for the user; unexpected errors go to the log with their traceback."""
    if isinstance(exc, OmeroError):
        return str(exc)
    log.error("unexpected error in a worker", exc_info=exc)
    return f"Something went wrong unexpectedly. Details are in the log file: {log_path}"


class WorkerCrashed(Exception):
    """A ``RuntimeError`` from a generator, carried to the GUI thread (the cause is chained)."""


def _shielded(
    func: Callable[..., Generator[Any, Any, Any]],
) -> Callable[..., Generator[Any, Any, Any]]:
    """Re-raise a ``RuntimeError`` from ``func`` as :class:`WorkerCrashed`.

    Superqt takes a ``RuntimeError`` from a generator for a deleted worker and
    drops it without ``errored`` or ``finished``: the queue would never end.
    """

    def run(*args: Any) -> Generator[Any, Any, Any]:
        try:
            return (yield from func(*args))
        except RuntimeError as exc:
            raise WorkerCrashed(str(exc)) from exc

    return run


class ServerTasks(QObject):
    """A FIFO of workers: the next one starts when the previous one has finished.

    One OMERO session is not meant to be driven from two threads at once (a
    group switch in the middle of an upload would move the upload), so every
    server call of the window goes through here.  Each still runs on
    ``QThreadPool.globalInstance()``; the GUI thread only receives signals.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: deque[WorkerBase[Any]] = deque()
        self._current: WorkerBase[Any] | None = None

    @property
    def busy(self) -> bool:
        """Whether a task runs or waits."""
        return self._current is not None or bool(self._pending)

    def call(
        self,
        func: Callable[..., Any],
        *args: Any,
        on_done: Handler,
        on_error: Handler,
    ) -> FunctionWorker[Any]:
        """Queue ``func(*args)``; ``on_done(result)`` or ``on_error(exc)`` follows."""
        worker: FunctionWorker[Any] = FunctionWorker(func, *args)
        worker.returned.connect(on_done)
        worker.errored.connect(on_error)
        self._submit(worker)
        return worker

    def generate(
        self,
        func: Callable[..., Generator[Any, Any, Any]],
        *args: Any,
        on_yield: Handler,
        on_done: Handler,
        on_error: Handler,
    ) -> GeneratorWorker[Any, Any, Any]:
        """Queue the generator ``func(*args)``; each yielded value goes to ``on_yield``."""
        worker: GeneratorWorker[Any, Any, Any] = GeneratorWorker(_shielded(func), *args)
        worker.yielded.connect(on_yield)
        worker.returned.connect(on_done)
        worker.errored.connect(on_error)
        self._submit(worker)
        return worker

    def _submit(self, worker: WorkerBase[Any]) -> None:
        was_busy = self.busy
        worker.finished.connect(self._on_finished)
        self._pending.append(worker)
        self._start_next()
        if not was_busy:
            self.busy_changed.emit(True)

    def _start_next(self) -> None:
        if self._current is None and self._pending:
            self._current = self._pending.popleft()
            self._current.start()

    def _on_finished(self, _: object = None) -> None:
        self._current = None
        self._start_next()
        if not self.busy:
            self.busy_changed.emit(False)


def run_in_background(
    func: Callable[..., Any], *args: Any, on_done: Handler, on_error: Handler
) -> FunctionWorker[Any]:
    """Run ``func(*args)`` on the thread pool, outside the server FIFO (file work)."""
    worker: FunctionWorker[Any] = FunctionWorker(func, *args)
    worker.returned.connect(on_done)
    worker.errored.connect(on_error)
    worker.start()
    return worker


def generate_in_background(
    func: Callable[..., Generator[Any, Any, Any]],
    *args: Any,
    on_yield: Handler,
    on_done: Handler,
    on_error: Handler,
) -> GeneratorWorker[Any, Any, Any]:
    """Run the generator ``func(*args)`` on the thread pool, outside the server FIFO."""
    worker: GeneratorWorker[Any, Any, Any] = GeneratorWorker(_shielded(func), *args)
    worker.yielded.connect(on_yield)
    worker.returned.connect(on_done)
    worker.errored.connect(on_error)
    worker.start()
    return worker
