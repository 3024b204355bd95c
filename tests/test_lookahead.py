"""The next file that converts is converted in one background thread while one uploads.

Through the real queue, omero-py and the stand-in.  The conversion is the
real one (Fibics TIFF to OME-TIFF), observed by a spy wrapped around the
format's ``convert``: which file, in which thread, and what the file before
it was doing at that moment.  The tests never time anything: where the
queue's thread and the look-ahead's must meet, the test waits (bounded) on
the event stream for the look-ahead to get where it is going.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.formats import FormatError, fibics
from cci_uploader.pipeline import ConnectionDown, EntryChanged, ImportQueue, SessionLost, Status
from cci_uploader.pipeline.lookahead import CONVERTED, CONVERTING, Phase
from cci_uploader.plan import plan
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from cci_uploader.pipeline.state import FileState, QueueEvent
    from cci_uploader.sandbox import SandboxServer

FIBICS = "fibics/fibics_test.tif"
THREAD = "cci-look-ahead"
CHUNK = 64 * 1024  # many chunks per file: many events between which the queue looks ahead
WAIT_S = 60.0  # bound of every wait on the other thread (a failure, not a measure)


@dataclass
class Conversion:
    """One call of the format's convert, as the spy saw it."""

    name: str
    thread: str
    states: tuple[FileState, ...]  # every file's state when it began


@dataclass
class Spy:
    """Wraps Fibics' convert: records each call; ``before`` runs first, in its thread."""

    queue: ImportQueue | None = None
    calls: list[Conversion] = field(default_factory=list)
    started: dict[str, threading.Event] = field(default_factory=dict)
    before: Callable[[Path], None] = lambda path: None

    def began(self, name: str) -> threading.Event:
        return self.started.setdefault(name, threading.Event())

    def of(self, name: str) -> list[Conversion]:
        return [c for c in self.calls if c.name == name]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    seen = Spy()
    real = fibics.FORMAT.convert
    assert real is not None

    def convert(path: Path, out_dir: Path) -> list[Path]:
        states = seen.queue.states if seen.queue is not None else ()
        seen.calls.append(Conversion(path.name, threading.current_thread().name, states))
        seen.began(path.name).set()
        seen.before(path)
        return real(path, out_dir)

    monkeypatch.setattr(fibics, "FORMAT", dataclasses.replace(fibics.FORMAT, convert=convert))
    return seen


def _copies(samples: Path, folder: Path, count: int, *, same: bool = False) -> list[Path]:
    """Fibics TIFFs of other content each (a byte more), or the very same bytes."""
    data = (samples / FIBICS).read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"fib{n}.tif"
        path.write_bytes(data if same else data + bytes([n]))
        paths.append(path)
    return paths


def _queue(paths: list[Path], work: Path, history: History | None = None) -> ImportQueue:
    files = plan(scan_paths(paths, Config()), Config(), [("S", "1")])
    return ImportQueue(files, history=history, work_dir=work, chunk_size=CHUNK)


def _let_ahead(queue: ImportQueue, index: int, reached: Callable[[], bool]) -> None:
    """Wait until the file ahead ``reached()``, or until only the queue's thread can go on.

    Called at an event of the file uploading: its upload waits meanwhile, so
    what the look-ahead does is seen to happen before that upload ends.
    """
    deadline = time.monotonic() + WAIT_S
    while not reached() and time.monotonic() < deadline:
        ahead = queue.ahead.current
        if ahead is None or ahead.index != index or ahead.phase is Phase.ASKING:
            return  # not started yet, or asking OMERO: the queue's thread does that next
        if ahead.phase in (Phase.DONE, Phase.SKIPPED):
            return
        time.sleep(0.005)


def _uploading(event: QueueEvent, index: int) -> bool:
    return (
        isinstance(event, EntryChanged)
        and event.index == index
        and event.state.message == "uploading"
    )


def _run(
    queue: ImportQueue, conn: om.Connection, hold: Callable[[QueueEvent], None]
) -> Iterator[QueueEvent]:
    for event in queue.run(conn):
        hold(event)
        yield event


def _images(sandbox: SandboxServer) -> list[str]:
    """Image names in the order the server made them."""
    images = sorted(sandbox.objects("Image"), key=lambda i: i.getId().getValue())
    return [i.getName().getValue() for i in images]


def _left_in(work: Path) -> list[Path]:
    return sorted(work.rglob("*")) if work.exists() else []


def _no_thread() -> bool:
    return not any(t.name == THREAD for t in threading.enumerate())


def test_the_next_file_converts_while_this_one_uploads(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    paths = _copies(samples, tmp_path / "data", 3)
    queue = spy.queue = _queue(paths, tmp_path / "cache", History())

    def hold(event: QueueEvent) -> None:
        for n in (0, 1):
            if _uploading(event, n):
                _let_ahead(queue, n + 1, spy.began(paths[n + 1].name).is_set)

    list(_run(queue, conn, hold))
    assert [s.status for s in queue.states] == [Status.UPLOADED] * 3, [
        s.message for s in queue.states
    ]
    for n in (1, 2):
        (conversion,) = spy.of(paths[n].name)  # converted once
        assert conversion.thread == THREAD
        before = conversion.states[n - 1]  # the file in front was still being sent
        assert (before.status, before.message) == (Status.UPLOADING, "uploading")
        assert conversion.states[n].status is Status.QUEUED
    assert len(_images(sandbox)) == 3
    assert queue.ahead.join(WAIT_S)
    assert _left_in(tmp_path / "cache") == []


def test_uploads_stay_one_at_a_time_in_order_and_the_row_ahead_says_queued(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    czi = tmp_path / "data" / "plain.czi"
    fibs = _copies(samples, tmp_path / "data", 3)
    czi.write_bytes((samples / "czi" / "tiles_z.czi").read_bytes())
    paths = [fibs[0], czi, fibs[1], fibs[2]]  # the next one that converts is two ahead
    queue = spy.queue = _queue(paths, tmp_path / "cache")
    order: list[int] = []
    ahead_while_sending = 0

    def hold(event: QueueEvent) -> None:
        nonlocal ahead_while_sending
        if not isinstance(event, EntryChanged):
            return
        states = queue.states
        sending = [i for i, s in enumerate(states) if s.message == "uploading"]
        assert len(sending) <= 1  # one upload at a time
        assert all(states[i].status is Status.UPLOADING for i in sending)
        converting = [i for i, s in enumerate(states) if s.message == CONVERTING]
        # The file whose turn it is: the last one that left the queue.
        turn = max((i for i, s in enumerate(states) if s.status is not Status.QUEUED), default=-1)
        for i in converting:  # ahead: queued, never "uploading"; at its turn: its own
            assert states[i].status is (Status.UPLOADING if i == turn else Status.QUEUED)
        if sending and any(states[i].status is Status.QUEUED for i in converting):
            ahead_while_sending += 1
        if event.state.message == "uploading" and event.index not in order:
            order.append(event.index)
        for n, next_converting in ((0, 2), (1, 2), (2, 3)):
            if _uploading(event, n):
                _let_ahead(queue, next_converting, spy.began(paths[next_converting].name).is_set)

    list(_run(queue, conn, hold))
    assert [s.status for s in queue.states] == [Status.UPLOADED] * 4, [
        s.message for s in queue.states
    ]
    assert order == [0, 1, 2, 3]  # uploads in queue order
    assert ahead_while_sending > 0  # a row said "converting" while queued, beside an upload
    assert [c.thread for c in spy.of(fibs[1].name)] == [THREAD]
    names = _images(sandbox)
    assert [n.split(".")[0] for n in names] == ["fib0", "plain", "fib1", "fib2"]


def test_cancel_while_converting_ahead_leaves_no_file_and_no_thread(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    paths = _copies(samples, tmp_path / "data", 3)
    work = tmp_path / "cache"
    queue = spy.queue = _queue(paths, work)
    ended, go_on = threading.Event(), threading.Event()
    ended_first: list[bool] = []

    def stuck(path: Path) -> None:  # a conversion that takes long: cancelled meanwhile
        if path.name == paths[1].name:
            queue.cancel()
            go_on.wait(WAIT_S)
            ended_first.append(ended.is_set())  # the run did not wait for it

    spy.before = stuck

    def hold(event: QueueEvent) -> None:
        if _uploading(event, 0):
            _let_ahead(queue, 1, spy.began(paths[1].name).is_set)

    list(_run(queue, conn, hold))
    ended.set()
    go_on.set()
    assert queue.ahead.join(WAIT_S)
    assert ended_first == [True]
    assert [c.thread for c in spy.calls if c.name == paths[1].name] == [THREAD]
    assert _no_thread()
    assert _left_in(work) == []  # what it wrote after the cancel went with it
    assert [s.status for s in queue.states] == [Status.PENDING] * 3
    assert queue.states[0].message == "cancelled: nothing was imported"
    assert sandbox.objects("Image") == []
    # Run again: everything is converted and imported once.
    spy.before = lambda path: None
    list(queue.run(conn))
    assert [s.status for s in queue.states] == [Status.UPLOADED] * 3
    assert len(_images(sandbox)) == 3
    assert queue.ahead.join(WAIT_S)
    assert _left_in(work) == []


def test_a_copy_converted_ahead_is_found_at_its_turn_and_not_imported_twice(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    # The same bytes under another name: found by the upload history (only by
    # the sources: the OME-TIFFs are named apart), so only the check of the
    # sources at its turn can find it.  It was asked about (and converted)
    # ahead before the first was on OMERO.
    data = (samples / FIBICS).read_bytes()
    (tmp_path / "data").mkdir()
    first, second = tmp_path / "data" / "first.tif", tmp_path / "data" / "second.tif"
    first.write_bytes(data)
    second.write_bytes(data)
    work = tmp_path / "cache"
    queue = spy.queue = _queue([first, second], work, History())
    converted_ahead = spy.began(second.name)

    def hold(event: QueueEvent) -> None:
        if _uploading(event, 0):
            _let_ahead(queue, 1, converted_ahead.is_set)

    list(_run(queue, conn, hold))
    assert converted_ahead.is_set()
    assert [c.thread for c in spy.calls] == ["MainThread", THREAD]
    assert [s.status for s in queue.states] == [Status.UPLOADED, Status.DUPLICATE], [
        s.message for s in queue.states
    ]
    assert len(_images(sandbox)) == 1  # imported once
    assert queue.ahead.join(WAIT_S)
    assert _left_in(work) == []


def test_a_file_already_on_omero_is_not_converted_ahead(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    fib = _copies(samples, tmp_path / "data", 1)[0]
    czi = tmp_path / "data" / "plain.czi"
    czi.write_bytes((samples / "czi" / "tiles_z.czi").read_bytes())
    list(_queue([fib], tmp_path / "cache").run(conn))  # on OMERO now
    spy.calls.clear()
    queue = spy.queue = _queue([czi, fib], tmp_path / "cache")
    asked = 0

    def hold(event: QueueEvent) -> None:
        nonlocal asked
        if _uploading(event, 0):
            ahead = queue.ahead.current
            asked += ahead is not None and ahead.phase is Phase.ASKING
            _let_ahead(queue, 1, lambda: False)  # hashed: asked between two chunks

    list(_run(queue, conn, hold))
    assert asked > 0  # it was looked at ahead
    assert spy.calls == []  # and not converted
    assert [s.status for s in queue.states] == [Status.UPLOADED, Status.DUPLICATE]
    assert len(_images(sandbox)) == 2


def test_a_source_changed_after_its_conversion_ahead_ends_red(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    paths = _copies(samples, tmp_path / "data", 2)
    work = tmp_path / "cache"
    queue = spy.queue = _queue(paths, work, History())
    said: list[str] = []

    def hold(event: QueueEvent) -> None:
        if _uploading(event, 0):
            ahead = queue.ahead.current
            _let_ahead(queue, 1, lambda: ahead is not None and ahead.phase is Phase.DONE)
        if isinstance(event, EntryChanged) and event.index == 1:
            said.append(event.state.message)
            if event.state.message == CONVERTED:  # the microscope writes on
                with paths[1].open("ab") as source:
                    source.write(b"more")

    list(_run(queue, conn, hold))
    assert CONVERTED in said
    assert queue.states[0].status is Status.UPLOADED
    assert queue.states[1].status is Status.ERROR
    assert "changed after it was converted" in queue.states[1].message
    assert len(_images(sandbox)) == 1  # nothing of the changed file
    assert [u.main.name for u in History().uploads()] == [queue.files[0].path.name]
    assert queue.ahead.join(WAIT_S)
    assert _left_in(work) == []


def _pause_while_converting_ahead(
    queue: ImportQueue,
    conn: om.Connection,
    spy: Spy,
    paths: list[Path],
    pause: Callable[[], None],
) -> QueueEvent:
    def hold(event: QueueEvent) -> None:
        if _uploading(event, 0):
            _let_ahead(queue, 1, spy.began(paths[1].name).is_set)
            if spy.began(paths[1].name).is_set():
                pause()

    events = list(_run(queue, conn, hold))
    return events[-1]


@pytest.mark.parametrize("cause", ["connection lost", "session expired"])
def test_a_pause_keeps_the_conversion_ahead_for_the_next_run(
    cause: str,
    sandbox: SandboxServer,
    token: str,
    spy: Spy,
    samples: Path,
    tmp_path: Path,
) -> None:
    paths = _copies(samples, tmp_path / "data", 3)
    work = tmp_path / "cache"
    queue = spy.queue = _queue(paths, work, History())
    conn = om.connect(sandbox.address, token)
    try:
        if cause == "connection lost":

            def pause() -> None:
                sandbox.faults.cut_after_bytes = 0

            assert isinstance(
                _pause_while_converting_ahead(queue, conn, spy, paths, pause), ConnectionDown
            )
            sandbox.faults.cut_after_bytes = None
            conn.reconnect()
        else:
            last = _pause_while_converting_ahead(
                queue, conn, spy, paths, lambda: sandbox.expire(token)
            )
            assert isinstance(last, SessionLost)
            conn.close()
            conn = om.connect(sandbox.address, sandbox.new_token())
        assert [s.status for s in queue.states] == [Status.QUEUED] * 3
        list(queue.run(conn))
    finally:
        conn.close()
    assert [s.status for s in queue.states] == [Status.UPLOADED] * 3, [
        s.message for s in queue.states
    ]
    assert [c.thread for c in spy.of(paths[1].name)] == [THREAD]  # converted once, reused
    assert len(_images(sandbox)) == 3  # each imported once
    assert queue.ahead.join(WAIT_S)
    assert _no_thread()
    assert _left_in(work) == []


def test_an_abandoned_queue_deletes_what_was_converted_ahead(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    paths = _copies(samples, tmp_path / "data", 3)
    work = tmp_path / "cache"
    queue = spy.queue = _queue(paths, work)

    def cut() -> None:
        sandbox.faults.cut_after_bytes = 0

    assert isinstance(_pause_while_converting_ahead(queue, conn, spy, paths, cut), ConnectionDown)
    sandbox.faults.cut_after_bytes = None
    assert queue.ahead.join(WAIT_S)
    assert _left_in(work) != []  # kept over the pause
    queue.abandon("gave up")
    assert _left_in(work) == []
    assert [s.status for s in queue.states] == [Status.ERROR] * 3
    assert _no_thread()


def test_a_conversion_failing_ahead_is_said_at_its_turn_and_leaves_nothing(
    conn: om.Connection, sandbox: SandboxServer, spy: Spy, samples: Path, tmp_path: Path
) -> None:
    paths = _copies(samples, tmp_path / "data", 3)
    work = tmp_path / "cache"
    queue = spy.queue = _queue(paths, work)
    written: list[Path] = []

    def breaks(path: Path) -> None:  # half a file written, then the reader gives up
        if path.name == paths[1].name:
            (lease,) = [p for p in work.iterdir() if p.is_dir() and not any(p.glob("*.ome.tif*"))]
            written.append(lease / "fib1.ome.tiff")
            written[0].write_bytes(b"II*\0")
            raise FormatError("fib1.tif is cut short; copy it again from the microscope PC.")

    spy.before = breaks

    def hold(event: QueueEvent) -> None:
        if _uploading(event, 0):
            _let_ahead(queue, 1, spy.began(paths[1].name).is_set)

    list(_run(queue, conn, hold))
    assert [c.thread for c in spy.of(paths[1].name)] == [THREAD]
    assert [s.status for s in queue.states] == [Status.UPLOADED, Status.ERROR, Status.UPLOADED]
    assert queue.states[1].message == "fib1.tif is cut short; copy it again from the microscope PC."
    assert len(_images(sandbox)) == 2
    assert written and not written[0].exists()
    assert queue.ahead.join(WAIT_S)
    assert _no_thread()
    assert _left_in(work) == []
