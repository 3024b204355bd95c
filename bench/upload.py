"""Upload throughput against the OMERO stand-in, all measured in one run.

Prints, for one generated file (1 GiB by default):
- raw: ``RawFileStore.write`` alone, called in a loop, bytes already in memory;
- raw-pipelined: the same writes with ours' pipelining (the transport's ceiling);
- ours: the app's import (read + SHA-1 in the same pass + pipelined upload
  + verifyUpload + server import);
- 1MiB-blocks: the facility's current web uploader's way (SHA-1 in a
  separate pass, then sequential synchronous 1 MiB writes, then verify);
and their ratios.  The stand-in runs in its own process, as a server would.
After one untimed warm-up, the methods run in interleaved rounds and each
one's best rate counts: this 2-core machine's memory management is noisy.

Last line: ``ours/raw=<x> ours/1MiB-blocks=<y>``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from cci_uploader import omero as om
from cci_uploader.omero.transfer import CHUNK_SIZE, PIPELINE_DEPTH, _fileset, _settings
from cci_uploader.sandbox import DEMO_TOKEN

MIB = 1024 * 1024


def start_server() -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("cci-uploader")
    proc = subprocess.Popen([str(exe), "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("server: "):
            return proc, line.split(": ", 1)[1].strip()
    raise RuntimeError("the sandbox did not start")


def make_file(folder: Path, size: int) -> Path:
    path = folder / "bench.czi"
    block = os.urandom(16 * MIB)
    with path.open("wb") as fh:
        for _ in range(size // len(block)):
            fh.write(block)
            block = block[1:] + block[:1]  # not all blocks alike
    return path


def _new_process(conn: om.Connection, path: Path, dataset: int) -> Any:
    repo = conn.gateway.c.getManagedRepository()
    return repo.importFileset(_fileset([path]), _settings(dataset))


def _pool() -> list[bytes]:
    """128 MiB of distinct chunks, four times the CPU's last-level cache here.

    One buffer sent again and again would sit in cache and overstate what
    the transport does with real data.
    """
    return [os.urandom(CHUNK_SIZE) for _ in range(128 * MIB // CHUNK_SIZE)]


def raw(conn: om.Connection, path: Path, dataset: int) -> float:
    """``RawFileStore.write`` alone: the call in a loop, bytes already in memory."""
    size = path.stat().st_size
    pool = _pool()
    proc = _new_process(conn, path, dataset)
    store = proc.getUploader(0)
    start = time.perf_counter()
    for turn, offset in enumerate(range(0, size, CHUNK_SIZE)):
        store.write(pool[turn % len(pool)], offset, CHUNK_SIZE)
    elapsed = time.perf_counter() - start
    store.close()
    proc.close()
    return size / elapsed


def raw_pipelined(conn: om.Connection, path: Path, dataset: int) -> float:
    """The transport's ceiling: the same writes, with ours' pipelining, nothing else."""
    size = path.stat().st_size
    pool = _pool()
    proc = _new_process(conn, path, dataset)
    store = proc.getUploader(0)
    start = time.perf_counter()
    inflight: deque[Any] = deque()
    for turn, offset in enumerate(range(0, size, CHUNK_SIZE)):
        inflight.append(store.begin_write(pool[turn % len(pool)], offset, CHUNK_SIZE))
        if len(inflight) >= PIPELINE_DEPTH:
            store.end_write(inflight.popleft())
    while inflight:
        store.end_write(inflight.popleft())
    elapsed = time.perf_counter() - start
    store.close()
    proc.close()
    return size / elapsed


def ours(conn: om.Connection, path: Path, dataset: int) -> float:
    start = time.perf_counter()
    *_, done = om.import_file(conn, [path], dataset)
    elapsed = time.perf_counter() - start
    assert isinstance(done, om.Imported)
    return path.stat().st_size / elapsed


def one_mib_blocks(conn: om.Connection, path: Path, dataset: int) -> float:
    start = time.perf_counter()
    digest = hashlib.sha1()
    with path.open("rb") as fh:  # separate hashing pass
        while block := fh.read(MIB):
            digest.update(block)
    proc = _new_process(conn, path, dataset)
    store = proc.getUploader(0)
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(MIB):
            store.write(block, offset, len(block))
            offset += len(block)
    store.close()
    handle = proc.verifyUpload([digest.hexdigest()])
    while handle.getResponse() is None:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    handle.close()
    proc.close()
    return path.stat().st_size / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server, address = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = make_file(Path(tmp), args.size_mib * MIB)
            conn = om.connect(address, DEMO_TOKEN)
            try:
                project = om.get_or_create_project(conn, "bench")
                methods = {
                    "raw": raw,
                    "raw-pipelined": raw_pipelined,
                    "ours": ours,
                    "1MiB-blocks": one_mib_blocks,
                }
                datasets = {n: om.get_or_create_dataset(conn, project, n) for n in methods}
                raw_pipelined(conn, path, datasets["raw"])  # warm-up, not counted
                results: dict[str, float] = {}
                for round_ in range(args.rounds):  # interleaved; the best rate of each counts
                    for name, method in methods.items():
                        rate = method(conn, path, datasets[name])
                        results[name] = max(results.get(name, 0.0), rate)
                        print(f"round {round_ + 1} {name:>12}: {rate / MIB:8.1f} MB/s", flush=True)
            finally:
                conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, rate in results.items():
        print(f"best {name:>12}: {rate / MIB:8.1f} MB/s")
    print(f"file {args.size_mib} MiB, chunk {CHUNK_SIZE // MIB} MiB, {PIPELINE_DEPTH} in flight")
    print(f"ours/raw-pipelined={results['ours'] / results['raw-pipelined']:.3f}")
    print(
        f"ours/raw={results['ours'] / results['raw']:.3f} "
        f"ours/1MiB-blocks={results['ours'] / results['1MiB-blocks']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
