"""Benchmark: MRC conversion speed and memory, and the time to scan 1,000 files.

Usage: ``.venv/bin/python bench/convert.py [--samples DIR] [--runs N]``

1. A 512 MiB MRC (16384 x 16384 int16, smooth signal plus noise) is generated
   in a temporary folder with the sample atlas XML next to it.
2. Our conversion (``mrc.convert``: OME-XML, tiled deflate, SubIFD pyramid)
   and a bare ``tifffile.imwrite`` of the same memory-mapped array (tiled
   512 px, deflate, no pyramid, no OME-XML) each run in a fresh subprocess,
   alternately, ``--runs`` times; the best time of each is kept. Each child
   times only the write and reports its own peak RSS (VmHWM: ru_maxrss would
   include the parent's high-water mark, which Linux keeps across exec).
3. 1,000 files, copies of the sample files (pairs kept together, one copy
   of the sample set per sub-folder), are scanned with ``scan.scan_paths``.

The last line is ``time_ratio=<x> peak_rss_mib=<y> scan_1000_s=<z>``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import mrcfile
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("CCI_SAMPLES", REPO.parent / "shared" / "samples"))
SIDE = 16384  # 16384^2 int16 = 512 MiB

_REPORT = """
import re
with open("/proc/self/status") as status:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(f"{elapsed} {peak}")
"""

OURS = (
    """
import sys, time
from pathlib import Path
from cci_uploader.formats import mrc
start = time.perf_counter()
mrc.convert(Path(sys.argv[1]), Path(sys.argv[2]))
elapsed = time.perf_counter() - start
"""
    + _REPORT
)

BARE = (
    """
import sys, time, warnings
import mrcfile, tifffile
warnings.filterwarnings("ignore", "Setting the dtype", DeprecationWarning)
with mrcfile.mmap(sys.argv[1], mode="r") as source:
    start = time.perf_counter()
    tifffile.imwrite(sys.argv[2] + "/bare.tif", source.data, tile=(512, 512),
                     compression="zlib", photometric="minisblack", metadata=None)
    elapsed = time.perf_counter() - start
"""
    + _REPORT
)


def generate_mrc(path: Path) -> None:
    """Write a 512 MiB atlas-like MRC, a band at a time, with the sample XML beside it."""
    rng = np.random.default_rng(0)
    columns = np.arange(SIDE, dtype=np.int32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Setting the dtype", DeprecationWarning)
        with mrcfile.new_mmap(path, shape=(SIDE, SIDE), mrc_mode=1, overwrite=True) as new:
            for top in range(0, SIDE, 1024):
                rows = np.arange(top, top + 1024, dtype=np.int32)[:, None]
                noise = rng.integers(0, 64, (1024, SIDE), dtype=np.int32)
                new.data[top : top + 1024] = (rows + columns) % 2000 + noise
    shutil.copyfile(SAMPLES / "atlas" / "Atlas_1.xml", path.with_suffix(".xml"))


def run_child(code: str, *args: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; return (seconds, peak MiB) it reports."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    seconds, peak_kib = result.stdout.split()[-2:]
    return float(seconds), int(peak_kib) / 1024


def make_scan_folder(root: Path, count: int) -> Path:
    """Copy the sample set into sub-folders of ``root`` until there are ``count`` files.

    Files are copied in sorted order, so a pair (MRC+XML, EMI+SER) lands together.
    """
    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md")
    made = 0
    for copy in itertools.count():
        folder = root / f"session_{copy:03d}"
        folder.mkdir(parents=True)
        for path in files:
            if made == count:
                return root
            shutil.copyfile(path, folder / path.name)
            made += 1
    return root


def scan_seconds(folder: Path) -> tuple[float, int]:
    from cci_uploader.config import load_config
    from cci_uploader.scan import scan_paths

    config = load_config([])
    scan_paths([SAMPLES], config)  # warm imports and caches; not timed
    start = time.perf_counter()
    entries = scan_paths([folder], config)
    return time.perf_counter() - start, len(entries)


def per_format_seconds(folder: Path) -> dict[str, float]:
    """Time ``detect`` + ``read_metadata`` per format, to show where scan time goes."""
    from cci_uploader.formats import FormatError, detect

    totals: dict[str, float] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        start = time.perf_counter()
        module = detect(path)
        if module is not None:
            with contextlib.suppress(FormatError):
                module.read_metadata(path)
        name = module.name if module else "not a main file"
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - start
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="timed runs of each writer")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cci-bench-") as tmp:
        work = Path(tmp)
        source = work / "Atlas_big.mrc"
        generate_mrc(source)
        ours: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        for run in range(args.runs):
            out = work / f"out{run}"
            out.mkdir()
            bare.append(run_child(BARE, str(source), str(out)))
            ours.append(run_child(OURS, str(source), str(out)))
            print(
                f"run {run + 1}: ours {ours[-1][0]:.2f} s ({ours[-1][1]:.0f} MiB), "
                f"bare tifffile {bare[-1][0]:.2f} s ({bare[-1][1]:.0f} MiB)"
            )
            shutil.rmtree(out)
        source.unlink()
        best_ours = min(t for t, _ in ours)
        best_bare = min(t for t, _ in bare)
        peak = max(m for _, m in ours)

        folder = make_scan_folder(work / "scan", 1000)
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        seconds, entries = scan_seconds(folder)
        print(f"scanned {count} files ({entries} entries) in {seconds:.2f} s")
        breakdown = per_format_seconds(folder)
        print("  by format: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(breakdown.items())))

    print(
        f"time_ratio={best_ours / best_bare:.3f} peak_rss_mib={peak:.0f} scan_1000_s={seconds:.2f}"
    )


if __name__ == "__main__":
    main()
