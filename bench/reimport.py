"""A second import of the shared samples converts nothing: first run against a re-run.

Imports every sample (``../shared/samples``, or ``--samples``) through the real
queue into an in-process OMERO stand-in, then imports the same folder again
with a fresh upload history (so the answer must come from the server: the
originals attached to converted images, the fileset checksums of the rest).
Prints each run's time, how many files each run converted, and the ratio.

Last line: ``rerun/first=<x>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import tempfile
import time
from collections import Counter
from pathlib import Path

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.formats import registry
from cci_uploader.pipeline import ImportQueue
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.stewardship.history import History

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


def _counting_conversions() -> Counter[str]:
    """Wrap each converting format's ``convert`` to count calls (the bench, not the app)."""
    counts: Counter[str] = Counter()
    for name in registry.BUILTIN_MODULES:
        module = importlib.import_module(f"cci_uploader.formats.{name}")
        descriptor = module.FORMAT
        if descriptor.convert is not None:

            def counted(
                path: Path, out: Path, _f=descriptor.convert, _n=descriptor.name
            ) -> list[Path]:  # type: ignore[no-untyped-def]
                counts[_n] += 1
                return _f(path, out)

            module.FORMAT = dataclasses.replace(descriptor, convert=counted)
    return counts


def _run(
    conn: om.Connection, samples: Path, history: History, work: Path
) -> tuple[float, Counter[str]]:
    files = plan(scan_paths([samples], Config()), Config(), [("Sample", "bench")])
    queue = ImportQueue(files, work_dir=work, history=history)
    start = time.perf_counter()
    list(queue.run(conn))
    elapsed = time.perf_counter() - start
    return elapsed, Counter(s.status.value for s in queue.states)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    args = parser.parse_args()
    conversions = _counting_conversions()
    with tempfile.TemporaryDirectory() as tmp, SandboxServer() as server:
        tmp_path = Path(tmp)
        conn = om.connect(server.address, server.new_token())
        try:
            first, statuses = _run(conn, args.samples, History(tmp_path / "h1.sqlite3"), tmp_path)
            converted_first = sum(conversions.values())
            print(f"first run: {first:.2f} s, {dict(statuses)}, {converted_first} converted")
            conversions.clear()
            again, statuses = _run(conn, args.samples, History(tmp_path / "h2.sqlite3"), tmp_path)
            print(
                f"re-run:    {again:.2f} s, {dict(statuses)}, {sum(conversions.values())} converted"
            )
        finally:
            conn.close()
    print(f"rerun/first={again / first:.3f}")


if __name__ == "__main__":
    main()
