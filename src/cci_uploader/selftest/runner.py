"""The self-test's steps: each one runs, is timed and becomes one :class:`StepResult`.

It proves an installation (above all a PyInstaller bundle, where a missing
hidden import or data file shows only at run time) can do the app's work:
every format plugin and omero-py import, the sandbox starts, and one
generated file of each convertible format is converted and imported into it.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cci_uploader.selftest import samples

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

# (format name, writer) for each format that is converted before import.
CONVERTIBLE: tuple[tuple[str, Callable[[Path], Path]], ...] = (
    ("emd", samples.write_emd),
    ("emi_ser", samples.write_emi_ser),
    ("mrc_xml", samples.write_mrc_xml),
    ("sem_tif", samples.write_sem_tif),
)


class StepFailed(Exception):
    """A step's outcome was wrong; the message says what was expected."""


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step."""

    name: str
    ok: bool
    detail: str
    seconds: float

    def line(self) -> str:
        """One line for the console and the log: ``PASS  name: detail (0.1 s)``."""
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail} ({self.seconds:.1f} s)"


def _step(name: str, action: Callable[[], str]) -> StepResult:
    started = time.perf_counter()
    try:
        detail = action()
    except Exception as exc:  # every failure must become a FAIL line, whatever raised it
        log.exception("self-test step failed: %s", name)
        return StepResult(
            name, False, f"{type(exc).__name__}: {exc}", time.perf_counter() - started
        )
    return StepResult(name, True, detail, time.perf_counter() - started)


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown version"


def _import_plugin(name: str) -> str:
    module = importlib.import_module(f"cci_uploader.formats.{name}")
    return f"{module.FORMAT.name} ({', '.join(module.FORMAT.extensions)})"


def _import_omero() -> str:
    for name in ("omero.all", "omero.clients", "omero.gateway", "omero.rtypes", "IcePy"):
        importlib.import_module(name)
    import Ice

    return f"omero-py {_version('omero-py')}, Ice {Ice.stringVersion()}"


class _Session:
    """The sandbox and a connection to it, shared by the import steps."""

    def __init__(self, stack: ExitStack, work: Path) -> None:
        self.stack, self.work = stack, work
        self.server: Any = None
        self.conn: Any = None

    def start(self) -> str:
        from cci_uploader.sandbox import SandboxServer

        # Over SSL, as a real server is reached (a bare HOST means ssl://HOST:4064): this
        # proves IceSSL in the bundle (SChannel on Windows) reads the stand-in's certificate.
        self.server = self.stack.enter_context(SandboxServer(port=0, protocol="ssl"))
        return f"listening on {self.server.address}"

    def connect(self) -> str:
        from cci_uploader import omero as om
        from cci_uploader.sandbox import DEMO_TOKEN

        if self.server is None:
            raise StepFailed("not tried: the sandbox did not start")
        self.conn = om.connect(self.server.address, DEMO_TOKEN)
        self.stack.callback(self.conn.close)
        group = self.conn.switch_group(self.server.seed.lab_group.name)
        return f"signed in with the demo token, group {group.name!r}"

    def import_file(self, path: Path) -> str:
        from cci_uploader.config import Config
        from cci_uploader.pipeline import ImportQueue, Status
        from cci_uploader.plan import plan
        from cci_uploader.scan import scan_paths
        from cci_uploader.stewardship.history import History

        if self.conn is None:
            raise StepFailed("not tried: there is no connection to the sandbox")
        (scan,) = scan_paths([path], Config())
        if not scan.ok:
            raise StepFailed(f"the scan refused it: {scan.reason}")
        # Its own throwaway history: nothing of the self-test reaches the user's.
        config = Config()
        queue = ImportQueue(
            plan([scan], config, [("Sample", "self-test")]),
            history=History(self.work / "history.sqlite3"),
            work_dir=self.work / "queue",
        )
        for _event in queue.run(self.conn):
            pass
        (file,), (entry,) = queue.files, queue.states
        if entry.status is not Status.UPLOADED or not entry.image_ids:
            raise StepFailed(f"ended {entry.status.value}: {entry.message}")
        stored = {image.id.val for image in self.server.objects("Image")}
        missing = set(entry.image_ids) - stored
        if missing:
            raise StepFailed(f"image(s) {sorted(missing)} reported but not on the server")
        ids = ", ".join(map(str, entry.image_ids))
        return f"{scan.format} -> {file.target}, image {ids}"


def _convert(path: Path, out_dir: Path) -> str:
    import tifffile

    from cci_uploader.formats import detect

    module = detect(path)
    if module is None or module.convert is None:
        raise StepFailed(f"no converting format plugin claims {path.name}")
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = module.convert(path, out_dir)
    planes = 0
    for output in outputs:
        with tifffile.TiffFile(output) as tif:
            if not tif.is_ome:
                raise StepFailed(f"{output.name} is not an OME-TIFF")
            planes += sum(len(series.pages) for series in tif.series)
    names = ", ".join(p.name for p in outputs)
    return f"{module.name} -> {names}, {planes} plane(s)"


def _czi(folder: Path) -> str:
    """CZI is imported unchanged, but its reader is Zeiss's native library: load it."""
    from cci_uploader.formats import czi

    folder.mkdir(parents=True, exist_ok=True)
    path = samples.write_czi(folder)
    if not czi.is_supported(path):
        raise StepFailed(f"{path.name} written by pylibCZIrw is not recognised as CZI")
    meta = czi.read_metadata(path)
    return f"pylibCZIrw {_version('pylibCZIrw')} wrote and read {path.name}, {meta.images} image(s)"


def _scan_workers(folder: Path) -> str:
    """A big scan reads files in worker processes: start one, and compare what it reads."""
    from cci_uploader.formats import detect
    from cci_uploader.scan_pool import ReadAhead

    writers = [w for _, w in CONVERTIBLE]
    for index in range(8):
        run = folder / f"run{index}"
        run.mkdir(parents=True)
        for writer in writers:
            writer(run)
    files = [(p, f) for p in sorted(folder.rglob("*")) if (f := detect(p)) is not None]
    # Not shared: every file is waited for from the worker, so it must really run here.
    ahead = ReadAhead(files, workers=1, min_files=1, share=False)
    try:
        for path, fmt in files:
            if ahead.read(path, fmt)[0] != fmt.read_metadata(path):
                raise StepFailed(f"a worker process read {path.name} differently")
    finally:
        ahead.close()
    if ahead.from_workers != len(files):
        raise StepFailed(f"a worker process read {ahead.from_workers} of {len(files)} files")
    return f"a worker process read {len(files)} files as this process reads them"


def _gui() -> str:
    # The self-test is the one core module that loads the window, and only here, in
    # a function: the import-linter contracts list this import as an exception. Qt
    # itself is touched only in ui/ (``qt_platform``).
    from cci_uploader.ui.app import qt_platform

    return f"PySide6 {_version('PySide6-Essentials')}, Qt platform {qt_platform()!r}"


def _user_guide() -> str:
    from cci_uploader.ui.main_window import USER_GUIDE

    guide = Path(USER_GUIDE)
    if not guide.is_file():
        raise StepFailed(f"Help > User guide would open {guide}, which is missing")
    return f"{guide.name} ({guide.stat().st_size} bytes)"


def _label(name: str) -> str:
    """The format's label, for step names; its name when the plugins cannot be loaded."""
    from cci_uploader.formats import get_format

    try:
        return get_format(name).label
    except Exception:  # a plugin that does not import: its import step has said why
        log.exception("format %s has no label", name)
        return name


def _format_steps(
    label: str, writer: Callable[[Path], Path], folder: Path, session: _Session
) -> Iterator[StepResult]:
    """Generate one file, convert it, then import it through the real queue."""
    written: list[Path] = []

    def generate() -> str:
        folder.mkdir(parents=True, exist_ok=True)
        written.append(writer(folder))
        return ", ".join(sorted(p.name for p in folder.iterdir() if p.is_file()))

    yield _step(f"{label}: generate", generate)
    if written:
        yield _step(f"{label}: read and convert", partial(_convert, written[0], folder / "out"))
        yield _step(f"{label}: import", partial(session.import_file, written[0]))


def run_self_test(work_dir: Path | None = None, gui: bool = True) -> Iterator[StepResult]:
    """Run every step in order, yielding each result as soon as it is known.

    Parameters
    ----------
    work_dir : Path, optional
        Where the generated files go; a temporary folder (removed after) by default.
    gui : bool
        Also check that the Qt window's modules import and Qt starts.

    Yields
    ------
    StepResult
        One per step; a step whose precondition failed fails too, saying why.
    """
    from cci_uploader.formats import BUILTIN_MODULES

    for name in BUILTIN_MODULES:
        yield _step(f"import format plugin {name}", partial(_import_plugin, name))
    yield _step("import omero-py and Ice", _import_omero)
    with ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cci-st-")))
        session = _Session(stack, work_dir)
        yield _step("start the sandbox", session.start)
        yield _step("connect to the sandbox", session.connect)
        for name, writer in CONVERTIBLE:
            label = _label(name)
            folder = work_dir / label.replace("+", "-").replace(" ", "-").lower()
            yield from _format_steps(label, writer, folder, session)
        yield _step("CZI: write and read with Zeiss's library", partial(_czi, work_dir / "czi"))
        yield _step("scan in worker processes", partial(_scan_workers, work_dir / "workers"))
    if gui:
        yield _step("open the Qt GUI toolkit", _gui)
        yield _step("find the user guide", _user_guide)
