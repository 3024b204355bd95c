"""Run the real command line in a child process with a time and memory limit.

The child's address space is capped (``RLIMIT_AS``), so a reader that
allocates gigabytes fails there instead of taking the machine down, and a
timeout stops one that loops. The child reports its own wall time and peak
resident memory, which the tests print (they never assert on timing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 2 * 2**30
"""Address space a child may map; the hostile files once took 2.2 to 3.7 GB of memory."""

TIMEOUT_S = 120.0
"""Wall time a child may take; the hostile files once took minutes or forever."""

_DRIVER = """
import json, resource, sys, time
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
start = time.monotonic()
from cci_uploader.cli import main
code = main(sys.argv[1:])
# VmHWM is this process's own peak; ru_maxrss would include the forking parent's.
with open("/proc/self/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
print("@@limits " + json.dumps(
    {"code": code, "seconds": time.monotonic() - start, "peak_mib": peak}
), file=sys.stderr, flush=True)
raise SystemExit(code)
"""


@dataclass(frozen=True)
class Outcome:
    """What the child printed, and what it cost."""

    code: int
    records: list[dict[str, Any]]
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float

    def by_name(self) -> dict[str, dict[str, Any]]:
        """The JSON records of files keyed by file name (the scan's summary line has none)."""
        return {Path(r["path"]).name: r for r in self.records if "path" in r}


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> Outcome:
    """Run ``cci-uploader <argv>`` in a limited child; fail the test if it overruns."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("OMP_NUM_THREADS", "1")  # keep the address space of idle pools small
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(MEMORY_LIMIT), *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=full_env,
        check=False,
    )
    stats: dict[str, Any] = {"seconds": float("nan"), "peak_mib": float("nan")}
    for line in done.stderr.splitlines():
        if line.startswith("@@limits "):
            stats = json.loads(line.removeprefix("@@limits "))
    records = [
        json.loads(line) for line in done.stdout.splitlines() if line.strip().startswith("{")
    ]
    return Outcome(
        done.returncode,
        records,
        done.stdout,
        done.stderr,
        float(stats["seconds"]),
        float(stats["peak_mib"]),
    )
