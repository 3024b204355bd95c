"""Benchmark: a batch of converted files imported with and without the look-ahead.

Usage: ``.venv/bin/python bench/lookahead.py [--copies N] [--import-seconds S] [--runs R]``

1. The stand-in runs in its own process, as a server would, spending
   ``--import-seconds`` on each import after its upload is verified (a
   converted file waits for that before the next file starts).
2. Each run imports a fresh batch: ``--copies`` copies of the shared Fibics
   TIFF, SmartSEM TIFF and MRC+XML samples, renamed apart (so nothing is a
   duplicate), through the real :class:`~cci_uploader.pipeline.ImportQueue`
   with ``look_ahead`` off and on, alternately, ``--runs`` times each, after
   one untimed warm-up; the best time of each counts (this 2-core machine is
   shared and noisy).

The last line is ``lookahead_speedup=<x>``: the time without the look-ahead
divided by the time with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import DEMO_TOKEN
from cci_uploader.scan import scan_paths

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("CCI_SAMPLES", REPO.parent / "shared" / "samples"))
# (sample, the name of each copy: {n} the copy, {run} the run), companions beside.
SETS = (
    (("fibics/fibics_test.tif",), ("fib{run}_{n}.tif",)),
    (("sem_tif/sample6_001.tif",), ("sem{run}_{n}.tif",)),
    (("atlas/Atlas_1.mrc", "atlas/Atlas_1.xml"), ("atlas{run}_{n}.mrc", "atlas{run}_{n}.xml")),
)


def start_server(import_seconds: float) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("cci-uploader")
    command = [str(exe), "sandbox", "--port", "0", "--import-seconds", str(import_seconds)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("server: "):
            return proc, line.split(": ", 1)[1].strip()
    raise RuntimeError("the sandbox did not start")


def make_batch(folder: Path, copies: int, run: int) -> list[Path]:
    """Copies of the samples, renamed apart; returns the main files."""
    folder.mkdir(parents=True)
    mains = []
    for n in range(copies):
        for sources, names in SETS:
            for k, (source, name) in enumerate(zip(sources, names, strict=True)):
                path = folder / name.format(run=run, n=n)
                shutil.copyfile(SAMPLES / source, path)
                if k == 0:
                    mains.append(path)
    return mains


def import_batch(address: str, paths: list[Path], work: Path, look_ahead: bool) -> float:
    files = plan(scan_paths(paths, Config()), Config(), [("Bench", "lookahead")])
    queue = ImportQueue(files, history=None, work_dir=work)
    queue.look_ahead = look_ahead
    conn = om.connect(address, DEMO_TOKEN)
    try:
        start = time.perf_counter()
        for _ in queue.run(conn):
            pass
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    queue.ahead.join()
    bad = [s.message for s in queue.states if s.status is not Status.UPLOADED]
    if bad:
        raise RuntimeError(f"not every file was imported: {bad[:3]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=6, help="copies of each sample set")
    parser.add_argument("--import-seconds", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    proc, address = start_server(args.import_seconds)
    best = {False: float("inf"), True: float("inf")}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-lookahead-") as tmp:
            root = Path(tmp)
            files = len(make_batch(root / "probe", args.copies, 0))
            megabytes = sum(p.stat().st_size for p in (root / "probe").iterdir()) / 2**20
            print(f"{files} files, {megabytes:.0f} MB per batch; import {args.import_seconds} s")
            import_batch(address, make_batch(root / "warm", 1, 0), root / "cache", True)
            run = 0
            for _ in range(args.runs):
                for look_ahead in (False, True):
                    run += 1
                    paths = make_batch(root / f"run{run}", args.copies, run)
                    seconds = import_batch(address, paths, root / "cache", look_ahead)
                    best[look_ahead] = min(best[look_ahead], seconds)
                    label = "with" if look_ahead else "without"
                    print(f"run {run}: {label:>7} the look-ahead {seconds:6.2f} s", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"best: without {best[False]:.2f} s, with {best[True]:.2f} s")
    print(f"lookahead_speedup={best[False] / best[True]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
