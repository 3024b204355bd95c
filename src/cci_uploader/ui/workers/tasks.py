"""Workers on the thread pool: server calls one at a time in order, file work beside them.

Every worker is made and wired in one place (:func:`function_worker`,
:func:`generator_worker`); the FIFO and the background helpers only decide
when it starts.  Handlers are typed by the worker's result and yields.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase

from cci_uploader.omero import OmeroError

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

type Failed = Callable[[BaseException], object]


def explain(exc: BaseException, log_path: Path) -> str:
    """A message for the user; unexpected errors go to the log with their traceback."""
    if isinstance(exc, OmeroError):
        return str(exc)
    log.error("unexpected error in a worker", exc_info=exc)
    return f"Something went wrong unexpectedly. Details are in the log file: {log_path}"


class WorkerCrashed(Exception):
    """A ``RuntimeError`` from a generator, carried to the GUI thread (the cause is chained)."""


def _shielded[Y, S, R, *Ts](
    func: Callable[[*Ts], Generator[Y, S, R]],
) -> Callable[[*Ts], Generator[Y, S, R]]:
    """Re-raise a ``RuntimeError`` from ``func`` as :class:`WorkerCrashed`.

    Superqt takes a ``RuntimeError`` from a generator for a deleted worker and
    drops it without ``errored`` or ``finished``: the queue would never end.
    """

    def run(*args: *Ts) -> Generator[Y, S, R]:
        try:
            return (yield from func(*args))
        except RuntimeError as exc:
            raise WorkerCrashed(str(exc)) from exc

    return run


def function_worker[R, *Ts](
    func: Callable[[*Ts], R],
    *args: *Ts,
    on_done: Callable[[R], object],
    on_error: Failed,
) -> FunctionWorker[R]:
    """A worker for ``func(*args)``, not started: ``on_done(result)`` or ``on_error(exc)`` follows.

    The handlers are typed by what ``func`` returns, so mypy checks that they
    take what the worker hands back (the Qt signals themselves carry ``object``).
    """
    worker: FunctionWorker[R] = FunctionWorker(func, *args)
    worker.returned.connect(on_done)
    worker.errored.connect(on_error)
    return worker


def generator_worker[Y, R, *Ts](
    func: Callable[[*Ts], Generator[Y, None, R]],
    *args: *Ts,
    on_yield: Callable[[Y], object],
    on_done: Callable[[R], object],
    on_error: Failed,
) -> GeneratorWorker[Y, None, R]:
    """A worker for the generator ``func(*args)``, not started; each yield goes to ``on_yield``."""
    worker: GeneratorWorker[Y, None, R] = GeneratorWorker(_shielded(func), *args)
    worker.yielded.connect(on_yield)
    worker.returned.connect(on_done)
    worker.errored.connect(on_error)
    return worker


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

    def call[R, *Ts](
        self,
        func: Callable[[*Ts], R],
        *args: *Ts,
        on_done: Callable[[R], object],
        on_error: Failed,
    ) -> FunctionWorker[R]:
        """Queue ``func(*args)``; ``on_done(result)`` or ``on_error(exc)`` follows."""
        return self.submit(function_worker(func, *args, on_done=on_done, on_error=on_error))

    def generate[Y, R, *Ts](
        self,
        func: Callable[[*Ts], Generator[Y, None, R]],
        *args: *Ts,
        on_yield: Callable[[Y], object],
        on_done: Callable[[R], object],
        on_error: Failed,
    ) -> GeneratorWorker[Y, None, R]:
        """Queue the generator ``func(*args)``; each yielded value goes to ``on_yield``."""
        worker = generator_worker(
            func, *args, on_yield=on_yield, on_done=on_done, on_error=on_error
        )
        return self.submit(worker)

    def submit[W: WorkerBase[Any]](self, worker: W) -> W:
        """Queue a worker made by :func:`function_worker` or :func:`generator_worker`."""
        was_busy = self.busy
        worker.finished.connect(self._on_finished)
        self._pending.append(worker)
        self._start_next()
        if not was_busy:
            self.busy_changed.emit(True)
        return worker

    def _start_next(self) -> None:
        if self._current is None and self._pending:
            self._current = self._pending.popleft()
            self._current.start()

    def _on_finished(self, _: object = None) -> None:
        self._current = None
        self._start_next()
        if not self.busy:
            self.busy_changed.emit(False)


def run_in_background[R, *Ts](
    func: Callable[[*Ts], R],
    *args: *Ts,
    on_done: Callable[[R], object],
    on_error: Failed,
) -> FunctionWorker[R]:
    """Run ``func(*args)`` on the thread pool, outside the server FIFO (file work)."""
    worker = function_worker(func, *args, on_done=on_done, on_error=on_error)
    worker.start()
    return worker


def generate_in_background[Y, R, *Ts](
    func: Callable[[*Ts], Generator[Y, None, R]],
    *args: *Ts,
    on_yield: Callable[[Y], object],
    on_done: Callable[[R], object],
    on_error: Failed,
) -> GeneratorWorker[Y, None, R]:
    """Run the generator ``func(*args)`` on the thread pool, outside the server FIFO."""
    worker = generator_worker(func, *args, on_yield=on_yield, on_done=on_done, on_error=on_error)
    worker.start()
    return worker
