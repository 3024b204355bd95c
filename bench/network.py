"""Upload speed over a shaped network link, with the stand-in on the far side.

Builds the link itself: two network namespaces joined by a veth pair
(addresses exist only inside them), a token-bucket rate limit (``tbf``) on
each end, and a delay: ``tc netem`` where the kernel has it, else packets
arriving at the server are held for the RTT by a small NFQUEUE program (raw
netlink, below) in the server namespace.  Prints, in one run:

- link: iperf3 through the link, at 1 Gbit/s and RTT 2, 10, 30 ms;
- ours: the app's import of one big file (read + SHA-1 in one pass, pipelined),
  the whole import timed: TCP's slow start and the round trips before and
  after the bytes included; and its upload phase alone;
- web: the facility's web uploader's exact loop (1,000,000-byte synchronous
  writes, SHA-1 in the same pass), on a smaller file;
- win: ours as on Windows (see :func:`emulate_windows`), and at 30 ms the
  control ``win128k-default``: Ice's Windows default buffers, as if the app
  set none;
- requests per file for 200 small files, counted from the client's Ice
  protocol trace (two-way requests: each one a round trip);
- files/s at 10 ms with a server import time of 1 s per file;
- the first and the second scan of 1,000 files (``bench/scan.py``, no network).

The small-file figures run the real command line (``cci-uploader import``).
Needs root, ``ip``, ``tc``, ``iptables`` (for NFQUEUE), ``ethtool`` and
``iperf3`` (``./dev.sh bench`` installs them).  Everything it makes (the
namespaces, their veth pair and iptables rules, the processes it started)
is removed at the end, also after a failure, Ctrl-C or ``kill``.  Last line:
``ours/link@30ms=<a> ours/link@10ms=<b> win128k/link@30ms=<c> requests_per_file=<d>
files_per_s@10ms_1s_import=<e> rescan_1000_s=<f>``
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

NS_C, NS_S = "cci-bench-c", "cci-bench-s"
VETH_C, VETH_S = "cbench0", "sbench0"
IP_C, IP_S = "10.77.0.1", "10.77.0.2"
RATE = "1gbit"
RTTS_MS = (2, 10, 30)
MB = 1000 * 1000
SMALL_FILES = 200
SLOW_FILES = 20
GROUP = "Sandbox Lab"  # the stand-in's demo user's group
HERE = Path(__file__).resolve()
PY = sys.executable
CLI = str(Path(PY).with_name("cci-uploader"))
SAMPLES = HERE.parents[2] / "shared" / "samples"
WINDOWS_DEFAULT = 128 * 1024  # Ice's socket buffers on Windows (IceInternal::setTcpBufSize)

_started: list[subprocess.Popen[Any]] = []  # every process this run started, to end them


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def in_ns(ns: str, *cmd: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *cmd]


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a process in its own session (Ctrl-C reaches only us) and remember it."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    _started.append(proc)
    return proc


# -- the link ---------------------------------------------------------------


def build_link() -> None:
    sh("ip", "netns", "add", NS_C)
    sh("ip", "netns", "add", NS_S)
    sh("ip", "link", "add", VETH_C, "netns", NS_C, "type", "veth", "peer", VETH_S, "netns", NS_S)
    for ns, dev, ip in ((NS_C, VETH_C, IP_C), (NS_S, VETH_S, IP_S)):
        sh(*in_ns(ns, "ip", "addr", "add", f"{ip}/24", "dev", dev))
        sh(*in_ns(ns, "ip", "link", "set", dev, "up"))
        sh(*in_ns(ns, "ip", "link", "set", "lo", "up"))
        # Coalesce arriving segments (veth NAPI GRO): the delay program then
        # handles a few thousand packets a second, not 80,000.
        sh(*in_ns(ns, "ethtool", "-K", dev, "gro", "on"), check=False)
        sh(*in_ns(ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", RATE,
                  "burst", "1mb", "latency", "50ms"))  # fmt: skip
        for key, value in (
            # Packets held for the delay must not count against TCP's small-queue limit.
            ("net.ipv4.tcp_limit_output_bytes", str(64 * 1024 * 1024)),
            # Loss-based like Windows' CUBIC (a namespace may only pick from the
            # host's allowed list: reno, bbr here); BBR collapses on the
            # user-space delay's bursts.
            ("net.ipv4.tcp_congestion_control", "reno"),
        ):
            sh(*in_ns(ns, "sysctl", "-q", "-w", f"{key}={value}"))


def netem_available() -> bool:
    probe = sh(*in_ns(NS_S, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"),
               check=False)  # fmt: skip
    if probe.returncode == 0:
        sh(*in_ns(NS_S, "tc", "qdisc", "del", "dev", "lo", "root"))
    return probe.returncode == 0


class Delay:
    """Holds packets towards the server for the RTT (netem, else NFQUEUE)."""

    def __init__(self, netem: bool) -> None:
        self.netem = netem
        self.proc: subprocess.Popen[str] | None = None

    def set(self, rtt_ms: float) -> None:
        self.stop()
        if self.netem:
            sh(*in_ns(NS_C, "tc", "qdisc", "replace", "dev", VETH_C, "root", "netem",
                      "delay", f"{rtt_ms}ms", "rate", RATE, "limit", "100000"))  # fmt: skip
            return
        # On arrival at the server: held on the sending host, packets would stay
        # charged to the sender's socket and TCP small queues would throttle it.
        command = in_ns(NS_S, PY, str(HERE), "--nfq-delay", str(rtt_ms))
        self.proc = spawn(command, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the NFQUEUE delay program did not start")
        # iptables' NFQUEUE target: this kernel has xt_NFQUEUE but no nft "queue".
        sh(*in_ns(NS_S, "iptables", "-A", "INPUT", "-s", IP_C, "-j", "NFQUEUE",
                  "--queue-num", "0", "--queue-bypass"))  # fmt: skip

    def stop(self) -> None:
        if not self.netem:
            sh(*in_ns(NS_S, "iptables", "-F", "INPUT"), check=False)
        if self.proc is not None:
            end(self.proc)
            self.proc = None


def nfq_delay(rtt_ms: float) -> None:
    """Hold every queued packet ``rtt_ms``, then accept it (raw NFQUEUE netlink)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    sock.setsockopt(socket.SOL_SOCKET, 33, 64 * 1024 * 1024)  # SO_RCVBUFFORCE
    sock.setsockopt(270, 5, 1)  # SOL_NETLINK, NETLINK_NO_ENOBUFS
    sock.bind((0, 0))

    def attr(kind: int, data: bytes) -> bytes:
        raw = struct.pack("=HH", 4 + len(data), kind) + data
        return raw + b"\0" * (-len(raw) % 4)

    def message(msg: int, attrs: bytes, queue: int = 0) -> bytes:
        body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + attrs
        return struct.pack("=IHHII", 16 + len(body), (3 << 8) | msg, 1, 0, 0) + body

    config = 2  # NFQNL_MSG_CONFIG
    sock.send(message(config, attr(1, struct.pack("!BBH", 1, 0, socket.AF_INET))))  # BIND
    sock.send(message(config, attr(2, struct.pack("!IB", 0, 1))))  # copy metadata only
    sock.send(message(config, attr(3, struct.pack("!I", 100_000))))  # queue length
    flags = struct.pack("!I", 4)  # NFQA_CFG_F_GSO: queue GSO packets whole
    sock.send(message(config, attr(5, flags) + attr(4, flags)))
    print("ready", flush=True)
    delay = rtt_ms / 1000
    held: deque[tuple[float, int]] = deque()
    sock.setblocking(False)
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else 1.0
        if select.select([sock], [], [], timeout)[0]:
            with contextlib.suppress(BlockingIOError):
                while True:
                    data = sock.recv(1 << 20)
                    now = time.monotonic()
                    pos = 0
                    while pos + 16 <= len(data):
                        length, kind = struct.unpack_from("=IH", data, pos)
                        if kind == (3 << 8) and length >= 28:  # NFQNL_MSG_PACKET
                            a = pos + 20
                            while a + 4 <= pos + length:
                                alen, atype = struct.unpack_from("=HH", data, a)
                                if atype & 0x7FFF == 1:  # NFQA_PACKET_HDR
                                    (packet_id,) = struct.unpack_from("!I", data, a + 4)
                                    held.append((now + delay, packet_id))
                                    break
                                a += (alen + 3) & ~3
                        pos += (length + 3) & ~3
        now = time.monotonic()
        last = None
        while held and held[0][0] <= now:
            last = held.popleft()[1]
        if last is not None:  # NFQNL_MSG_VERDICT_BATCH: accept every id up to ``last``
            sock.send(message(3, attr(2, struct.pack("!II", 1, last))))


def end(proc: subprocess.Popen[Any]) -> None:
    """Stop one process this run started: politely, then for sure."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def cleanup() -> None:
    """End every process this run started, then remove the namespaces (veth and rules go too)."""
    while _started:
        end(_started.pop())
    for ns in (NS_C, NS_S):
        # A process left inside (ours: only this bench runs in these namespaces)
        # would keep the namespace, and its veth end, alive after ``del``.
        pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        sh("ip", "netns", "del", ns, check=False)


# -- the far side -------------------------------------------------------------


def serve() -> None:
    """The stand-in inside the server namespace; answers commands on stdin."""
    from cci_uploader.sandbox import SandboxServer
    from cci_uploader.sandbox.state import ImportTime

    with SandboxServer(host=IP_S) as server:
        print(json.dumps({"address": server.address, "token": server.new_token()}), flush=True)
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "token":
                print(json.dumps(server.new_token()), flush=True)
            elif command == "import_time":
                server.state.import_time = ImportTime(per_fileset_s=float(arg))
                print("{}", flush=True)
            else:
                return


class Far:
    def __init__(self) -> None:
        self.proc = spawn(
            in_ns(NS_S, PY, str(HERE), "--serve"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        hello = json.loads(self.ask(None))
        self.address, self.token = hello["address"], hello["token"]

    def ask(self, line: str | None) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if line is not None:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the stand-in stopped")
        return answer

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        end(self.proc)


# -- the near side --------------------------------------------------------------


def _set_sizes(sizes: dict[str, int]) -> None:
    """Give every Ice communicator of this process these socket buffer sizes."""
    import omero.clients

    original = omero.clients.BaseClient.__init__
    signature = inspect.signature(original)

    def init(*args: Any, **kwargs: Any) -> None:
        bound = signature.bind(*args, **kwargs)
        pmap = {**(bound.arguments.get("pmap") or {})}
        pmap.update({k: str(v) for k, v in sizes.items()})
        bound.arguments["pmap"] = pmap
        original(*bound.args, **bound.kwargs)

    omero.clients.BaseClient.__init__ = init  # type: ignore[method-assign]


def emulate_windows(properties: dict[str, str]) -> None:
    """Make this process's Ice sockets behave like Windows ones given ``properties``.

    Windows keeps ``SO_SNDBUF`` bytes of data; Linux doubles the value set
    (half for its own overhead) and, for bulk data in 64 KB segments, uses
    nearly all of the double for data: 128 KiB set on Linux let about
    256 KiB travel unacknowledged.  So each size is halved here.  Linux caps
    what it grants at ``net.core.wmem_max`` (a namespace cannot raise it), so
    Windows sizes beyond twice that cannot be emulated: :func:`main` says so.
    ``properties`` replace Ice's Windows default (128 KiB) where they set a size.
    """
    sizes = {"Ice.TCP.SndSize": WINDOWS_DEFAULT, "Ice.TCP.RcvSize": WINDOWS_DEFAULT}
    sizes.update({k: int(v) for k, v in properties.items() if k in sizes})
    _set_sizes({k: v // 2 for k, v in sizes.items()})


def client(mode: str, address: str, path: str) -> None:
    """One big-file upload in the client namespace (token on stdin); prints a JSON result.

    Besides the modes :func:`main` uses, ``win=BYTES`` emulates Windows with
    both buffers at ``BYTES``, ``linux=BYTES`` sets them as they are, and
    ``BENCH_CHUNK`` / ``BENCH_DEPTH`` (environment) change the upload's chunk
    size and writes in flight: for trying other settings.
    """
    from cci_uploader import omero as om
    from cci_uploader.omero import transfer
    from cci_uploader.omero.transfer import Uploading, _fileset, _settings

    chunk = int(os.environ.get("BENCH_CHUNK", transfer.CHUNK_SIZE))
    transfer.PIPELINE_DEPTH = int(os.environ.get("BENCH_DEPTH", transfer.PIPELINE_DEPTH))
    kind, _, size = mode.partition("=")
    if kind == "win" and size:
        emulate_windows({"Ice.TCP.SndSize": size, "Ice.TCP.RcvSize": size})
    elif kind == "linux":
        _set_sizes({"Ice.TCP.SndSize": int(size), "Ice.TCP.RcvSize": int(size)})
    elif mode == "win":
        from cci_uploader.omero.connection import ice_properties

        emulate_windows(ice_properties("win32"))
    elif mode == "win128k-default":
        emulate_windows({})
    conn = om.connect(address, sys.stdin.readline().strip())
    info = conn.gateway.c.getSession().ice_getConnection().getInfo()
    upload_s = 0.0
    phases: dict[str, float] = {}
    try:
        dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Bench"), "net")
        file = Path(path)
        start = time.perf_counter()
        if mode == "web":
            repo = conn.gateway.c.getManagedRepository()
            proc = repo.importFileset(_fileset([file]), _settings(dataset))
            store = proc.getUploader(0)
            digest, offset = hashlib.sha1(), 0
            with file.open("rb") as fh:
                while block := fh.read(1_000_000):
                    digest.update(block)
                    store.write(block, offset, len(block))
                    offset += len(block)
            store.close()
            handle = proc.verifyUpload([digest.hexdigest()])
            proc.close()
            while handle.getResponse() is None:
                time.sleep(0.05)
            handle.close()
        else:
            first = last = None
            for event in om.import_file(conn, [file], dataset, poll_s=0.05, chunk_size=chunk):
                if isinstance(event, Uploading):
                    last = time.perf_counter()
                    first = first or last
            if first is not None and last is not None:
                upload_s = last - first
                done = time.perf_counter()
                phases = {"to_first_ack": first - start, "after_last_ack": done - last}
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    result = {"s": elapsed, "upload_s": upload_s, "sndbuf": info.sndSize, **phases}
    print(json.dumps(result), flush=True)


def run(cmd: list[str], stdin: str, timeout: float = 900, **kwargs: Any) -> tuple[str, str]:
    """Run one of our processes to its end; its output (raise with its errors if it failed)."""
    proc = spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True, **kwargs)  # fmt: skip
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    finally:
        end(proc)
        _started.remove(proc)
    if proc.returncode:
        raise RuntimeError(f"{cmd[3:6]} failed ({proc.returncode}):\n{err[-3000:]}")
    return out, err


def measure(mode: str, far: Far, path: Path) -> dict[str, Any]:
    out, _ = run(in_ns(NS_C, PY, str(HERE), "--client", mode, far.address, str(path)), far.token)
    return dict(json.loads(out.strip().splitlines()[-1]))


def cli_import(far: Far, folder: Path, work: Path, trace: bool) -> tuple[float, Counter[str]]:
    """Files/s of ``cci-uploader import`` of ``folder``, and its two-way Ice requests by name."""
    env = {**os.environ}
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[var] = str(work / "app" / var.lower())
    env.pop("CCI_UPLOADER_CONFIG", None)
    env.pop("CCI_OMERO_TOKEN", None)
    log = work / "ice-trace.log"
    if trace:  # read by omero.client's Ice.createProperties; the app's own properties stay
        config = work / "ice-trace.cfg"
        config.write_text(f"Ice.Trace.Protocol=1\nIce.LogFile={log}\n", encoding="utf-8")
        env["ICE_CONFIG"] = str(config)
    files = sum(1 for p in folder.iterdir())
    token = json.loads(far.ask("token"))
    cmd = [CLI, "import", str(folder), "--server", far.address, "--group", GROUP,
           "--kv", "Sample=S1", "--kv", "Grid=G2", "--json"]  # fmt: skip
    proc = spawn(in_ns(NS_C, *cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert proc.stdin is not None and proc.stderr is not None and proc.stdout is not None
    proc.stdin.write(token + "\n")
    proc.stdin.close()
    started = None
    errors = []
    for line in proc.stderr:  # progress; the scan summary comes after connecting
        if started is None and "added" in line:
            started = time.perf_counter()
        errors.append(line)
    out = proc.stdout.read()
    proc.wait()
    elapsed = time.perf_counter() - (started or time.perf_counter())
    _started.remove(proc)
    records = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    bad = [r for r in records if r["status"] != "uploaded"]
    if proc.returncode or bad or len(records) != files:
        raise RuntimeError(f"import failed: {bad[:2]}\n{''.join(errors[-20:])}")
    counts: Counter[str] = Counter()
    if trace:
        text = log.read_text(encoding="utf-8", errors="replace")
        for block in text.split("Protocol: sending request")[1:]:
            request = re.search(r"request id = (\d+)", block)
            operation = re.search(r"operation = (\S+)", block)
            if request and operation and request.group(1) != "0":  # id 0: one-way
                counts[operation.group(1)] += 1
    return files / elapsed, counts


def iperf(seconds: int = 4) -> float:
    server = spawn(in_ns(NS_S, "iperf3", "-s", "-1", "-B", IP_S), stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        # The first second (slow start) omitted: the link's rate, not TCP's ramp.
        out = sh(*in_ns(NS_C, "iperf3", "-c", IP_S, "-t", str(seconds), "-O", "1", "-J",
                        "-w", "8M"))  # fmt: skip
        return float(json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"]) / 8
    finally:
        server.wait(10)
        _started.remove(server)


def small_czi(folder: Path, count: int, first: int = 0) -> Path:
    """Distinct small CZI files (1 MB), uploaded as they are."""
    folder.mkdir()
    data = (SAMPLES / "czi" / "tiles_z.czi").read_bytes()
    for n in range(first, first + count):
        (folder / f"c{n}.czi").write_bytes(data + n.to_bytes(2, "little"))
    return folder


def big_file(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        block = os.urandom(8 * MB)
        for _ in range(size // len(block)):
            fh.write(block)
            block = block[1:] + block[:1]
    return path


def scans() -> tuple[float, float]:
    """Seconds per 1,000 files of a first and a second scan (``bench/scan.py``)."""
    out = sh(PY, str(HERE.with_name("scan.py")), "--files", "1000").stdout
    print(out.strip().splitlines()[-2], flush=True)
    values = dict(item.split("=") for item in out.strip().splitlines()[-1].split())
    return float(values["first_scan_1000_s"]), float(values["rescan_1000_s"])


def main(big_mb: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="cci-bench-net-"))
    far: Far | None = None
    delay: Delay | None = None
    print(f"load: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    try:
        cleanup()
        build_link()
        linux_cap = int(sh(*in_ns(NS_C, "sysctl", "-n", "net.core.wmem_max")).stdout)
        netem = netem_available()
        print(f"delay by: {'tc netem' if netem else 'NFQUEUE (no netem in this kernel)'}; "
              f"wmem_max {linux_cap}", flush=True)  # fmt: skip
        delay = Delay(netem)
        far = Far()
        big = big_file(work / "big.czi", big_mb * MB)
        web_file = big_file(work / "web.czi", min(big_mb, 500) * MB)  # its loop is slow
        from cci_uploader.omero.connection import ice_properties

        windows = max(int(v) for v in ice_properties("win32").values())
        if windows // 2 > linux_cap:
            print(f"note: Windows' {windows} B buffers are emulated as {2 * linux_cap} B "
                  f"(this host's net.core.wmem_max is {linux_cap})", flush=True)  # fmt: skip
        control = big_file(work / "control.czi", 48 * MB)
        ratios: dict[str, float] = {}
        for rtt in RTTS_MS:
            delay.set(rtt)
            link = iperf()
            modes = ["ours", "web"] + (["win"] if rtt in (10, 30) else [])
            results = {m: measure(m, far, web_file if m == "web" else big) for m in modes}
            rates = {
                m: (web_file if m == "web" else big).stat().st_size / r["s"]
                for m, r in results.items()
            }
            line = f"RTT {rtt:>2} ms: link {link / MB:6.1f} MB/s" + "".join(
                f"  {m} {r / MB:6.1f} MB/s ({r / link:.2f})" for m, r in rates.items()
            )
            upload = big.stat().st_size / max(results["ours"]["upload_s"], 1e-9)
            print(line + f"  ours/web {rates['ours'] / rates['web']:.2f}", flush=True)
            print(
                f"        ours' upload phase alone {upload / MB:6.1f} MB/s ({upload / link:.2f}); "
                f"socket send buffer {results['ours']['sndbuf']} B"
                + (f", win {results['win']['sndbuf']} B (halved, see emulate_windows)"
                   if "win" in results else ""),
                flush=True,
            )  # fmt: skip
            if rtt == 30:
                bare = control.stat().st_size / measure("win128k-default", far, control)["s"]
                print(f"        control, Ice's Windows default buffers (no properties): "
                      f"{bare / MB:.1f} MB/s ({bare / link:.2f})", flush=True)  # fmt: skip
            for m, r in rates.items():
                ratios[f"{m}@{rtt}"] = r / link
        delay.set(10)
        smalls = small_czi(work / "small", SMALL_FILES)
        rate, counts = cli_import(far, smalls, work, trace=True)
        total = sum(counts.values())
        print(f"{SMALL_FILES} small files @10 ms: {total / SMALL_FILES:.2f} two-way requests "
              f"per file; {rate:.1f} files/s", flush=True)  # fmt: skip
        print("        per file: " + ", ".join(
            f"{op} {n / SMALL_FILES:.2f}" for op, n in counts.most_common() if n >= SMALL_FILES / 2
        ), flush=True)  # fmt: skip
        far.ask("import_time 1.0")
        slow = small_czi(work / "slow", SLOW_FILES, first=SMALL_FILES)  # not duplicates
        files_per_s, _ = cli_import(far, slow, work, trace=False)
        print(f"{SLOW_FILES} small files @10 ms, 1 s server import each: "
              f"{files_per_s:.2f} files/s", flush=True)  # fmt: skip
        delay.stop()
        _, rescan_s = scans()
        print(
            f"ours/link@30ms={ratios['ours@30']:.2f} ours/link@10ms={ratios['ours@10']:.2f} "
            f"win128k/link@30ms={ratios['win@30']:.2f} "
            f"requests_per_file={total / SMALL_FILES:.2f} "
            f"files_per_s@10ms_1s_import={files_per_s:.2f} rescan_1000_s={rescan_s:.2f}"
        )
    finally:
        if far is not None:
            far.stop()
        if delay is not None:
            delay.stop()
        cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # the ``finally`` above cleans up


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--big-mb", type=int, default=2000, help="size of the big file (MB; the web loop's: 500)"
    )
    parser.add_argument("--nfq-delay", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, metavar=("MODE", "ADDRESS", "PATH"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.nfq_delay is not None:
        nfq_delay(args.nfq_delay)
    elif args.serve:
        serve()
    elif args.client:
        client(*args.client)
    else:
        # SIGINT too: a shell starting us in the background leaves it ignored.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _interrupted)
        sys.exit(main(args.big_mb))
