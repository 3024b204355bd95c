"""Scan time per 1,000 files: the first scan, and a second one of the same folder.

Builds a folder of copies of the shared sample files (``--kind mix``: every
sample format in turn; ``--kind tia``: EMI+SER pairs only, the small files
a TEM session writes by the hundred), then scans it twice in one process
with a fresh cache folder: the first scan reads every file, the second finds
the metadata cached by path, size and modification time.

A first scan of that many files also reads them in worker processes
(``cci_uploader.scan_pool``); the same first scan without workers is timed
on a second copy of the folder, with its own empty cache, after the first
(its imports are loaded by then, so the ratio understates what the workers
give).

Last line: ``first_scan_1000_s=<x> rescan_1000_s=<y> first_scan_1000_s_no_workers=<z>
workers_speedup=<z/x>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
# What each sample is, as groups of files that go together (a main file and its companions).
MIX = (
    ("tia", ("64x64_TEM_images_acquire.emi", "64x64_TEM_images_acquire_1.ser")),
    ("tia", ("128x128_TEM_acquire-sum1.emi", "128x128_TEM_acquire-sum1_1.ser")),
    ("sem_tif", ("sample6_001.tif",)),
    ("sem_tif", ("test_tiff_Zeiss_SEM_1k.tif",)),
    ("czi", ("tiles_z.czi",)),
    ("czi", ("RGB-8bit.czi",)),
    ("czi", ("czitools_LSM880_AiryScan.czi",)),
    ("emd", ("fei_example_tem_stack.emd",)),
    ("emd", ("fei_example_dpc_titles.emd",)),
    ("fibics", ("fibics_test.tif",)),
    ("atlas", ("Atlas_1.mrc", "Atlas_1.xml")),
)
TIA = MIX[:1]


def make_folder(folder: Path, files: int, kind: str) -> int:
    """Copy samples into ``folder`` (one sub-folder per 100 files) until ``files``; say how many."""
    groups = TIA if kind == "tia" else MIX
    made = n = 0
    while made < files:
        fmt, names = groups[n % len(groups)]
        sub = folder / f"run{made // 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        for name in names:
            stem, _, suffix = name.partition(".")
            # EMI+SER pairs are found by name: "x.emi" goes with "x_1.ser".
            if stem.endswith("_1") and suffix == "ser":
                target = f"f{n:05d}_1.{suffix}"
            else:
                target = f"f{n:05d}.{suffix}"
            shutil.copyfile(SAMPLES / fmt / name, sub / target)
            made += 1
        n += 1
    return made


def first_scan_alone(folder: Path, files: int, cache: Path) -> float:
    """Seconds per 1,000 files of a first scan read in this process only (cache in ``cache``)."""
    from cci_uploader.config import Config
    from cci_uploader.scan import scan

    os.environ["XDG_CACHE_HOME"] = str(cache)  # empty, as the first scan's was
    start = time.perf_counter()
    scan([folder], Config(), workers=0)
    return (time.perf_counter() - start) * 1000 / files


def measure(folder: Path, files: int) -> tuple[float, float, float, int]:
    """Seconds per 1,000 files of the first and the second scan, the first's CPU time, entries.

    The CPU time (this process's) says more than the clock on a shared machine.
    """
    from cci_uploader.config import Config
    from cci_uploader.scan import scan

    start, cpu = time.perf_counter(), time.process_time()
    first = scan([folder], Config())
    first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    second = scan([folder], Config())
    second_s = time.perf_counter() - start
    if second != first:
        raise AssertionError("the second scan found something else than the first")
    bad = [e for e in first.entries if not e.ok]
    if bad:
        raise AssertionError(f"{len(bad)} files refused, e.g. {bad[0].path}: {bad[0].reason}")
    per = 1000 / files
    return first_s * per, second_s * per, first_cpu * per, len(first.entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--kind", choices=("mix", "tia"), default="mix")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cci-bench-scan-"))
    try:
        # The app's cache (and config) folders inside the work folder: a cold cache.
        for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            os.environ[var] = str(work / var.lower())
        os.environ.pop("CCI_UPLOADER_CONFIG", None)
        files = make_folder(work / "data", args.files, args.kind)
        make_folder(work / "alone", args.files, args.kind)
        first, second, cpu, entries = measure(work / "data", files)
        alone = first_scan_alone(work / "alone", files, work / "cache-alone")
        load = os.getloadavg()[0]
        cores = os.cpu_count()
        print(f"{files} files ({args.kind}, {entries} entries), {cores} cores, load {load}")
        print(
            f"first scan: {first:.2f} s per 1,000 files ({cpu:.2f} s of this process's CPU, "
            f"imports included); second: {second:.3f} s per 1,000; first without worker "
            f"processes: {alone:.2f} s per 1,000"
        )
        print(
            f"first_scan_1000_s={first:.2f} rescan_1000_s={second:.3f} "
            f"first_scan_1000_s_no_workers={alone:.2f} workers_speedup={alone / first:.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
