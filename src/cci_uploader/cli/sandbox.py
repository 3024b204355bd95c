"""``cci-uploader sandbox`` (the stand-in alone) and ``cci-uploader demo``."""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cci_uploader.omero import CLIENT_NS
from cci_uploader.sandbox import (
    DEMO_TOKEN,
    SERVICE_ACCOUNT,
    SERVICE_PASSWORD,
    ImportTime,
    SandboxServer,
)
from cci_uploader.training import ImageRecord, Training

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("sandbox", help="run the local OMERO stand-in in the foreground")
    # As a real OMERO router: SSL on 4064, what "localhost:4064" in the config
    # (and a bare HOST:PORT anywhere) means to omero-py; plain TCP beside it.
    p.add_argument(
        "--port", type=int, default=SSL_PORT, help="SSL port on 127.0.0.1 (0: any free one)"
    )
    p.add_argument(
        "--tcp-port", type=int, default=0, help="plain TCP port on 127.0.0.1 (default: any)"
    )
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)  # benchmarks only
    p.add_argument(
        "--import-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds each import takes, as on a real server (default 0)",
    )
    p.add_argument(
        "--import-mb-per-s",
        type=float,
        default=0.0,
        metavar="RATE",
        help="besides, the rate (MB/s) at which the server reads imported bytes (0: instant)",
    )
    p.set_defaults(func=run_sandbox)
    d = sub.add_parser("demo", help="start the sandbox and import sample data into it")
    d.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders to import (default: small files of each format, made now)",
    )
    d.set_defaults(func=run_demo)


SSL_PORT = 4064


def _banner(server: SandboxServer) -> None:
    print("Training sandbox: nothing leaves this computer.", flush=True)
    print(f"server: {server.address}", flush=True)
    print(f"demo token: {DEMO_TOKEN}", flush=True)
    groups = (server.seed.lab_group, server.seed.core_group, server.seed.open_group)
    print(f"groups: {', '.join(g.name for g in groups)}, ...", flush=True)
    if server.protocol != "tcp":
        print(f"plain TCP: {server.address_for('tcp')}", flush=True)
    print(
        f"clean-up account: {SERVICE_ACCOUNT}, password {SERVICE_PASSWORD} "
        "(set [cleanup] account and store it with: cci-uploader cleanup --set-password)",
        flush=True,
    )
    print(
        "Nothing uploaded here counts as a copy: local files are never removed on its word.",
        flush=True,
    )


def run_sandbox(args: argparse.Namespace) -> int:
    with SandboxServer(
        port=args.tcp_port, ssl_port=args.port, protocol="ssl", host=args.host
    ) as server:
        server.state.import_time = ImportTime(
            args.import_seconds, 1 / (args.import_mb_per_s * 1e6) if args.import_mb_per_s else 0.0
        )
        _banner(server)
        print("Press Ctrl-C to stop; everything is forgotten then.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.wait_for_shutdown()
    return 0


def _write_demo_files(folder: Path) -> list[Path]:
    """One small file (or pair) of each format the app reads, written into ``folder``."""
    from cci_uploader.selftest import samples

    samples.write_czi(folder, stem="demo")
    for writer in (
        samples.write_emd,
        samples.write_emi_ser,
        samples.write_mrc_xml,
        samples.write_sem_tif,
    ):
        writer(folder, stem="demo", microscope="Demo scope")
    return [folder]


def run_demo(args: argparse.Namespace) -> int:
    import os

    from cci_uploader.cli import importing

    with contextlib.ExitStack() as stack:
        paths = list(args.paths)
        if not paths:
            # Written at run time: an installed app has no sample folder beside it.
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cci-demo-")))
            paths = _write_demo_files(folder)
        server = stack.enter_context(SandboxServer(port=0))
        _banner(server)
        os.environ.setdefault("CCI_OMERO_TOKEN", DEMO_TOKEN)
        argv = [
            "import",
            *map(str, paths),
            "--server",
            server.address,
            "--group",
            server.seed.lab_group.name,
            "--kv",
            "Sample=demo",
        ]
        print(f"cci-uploader {' '.join(argv)}", flush=True)
        # The import command itself (this runs inside the CLI's main already).
        parser = argparse.ArgumentParser(prog="cci-uploader")
        importing.register(parser.add_subparsers(dest="command", required=True))
        imported = parser.parse_args(argv)
        code: int = imported.func(imported)
        print(
            "\nThe sandbox stops now and forgets everything: nothing left this computer.",
            flush=True,
        )
        return code


# -- the window's sandbox mode (``gui --sandbox``) -----------------------


@contextlib.contextmanager
def training() -> Iterator[Training]:
    """Start the stand-in for the window; yield what the window needs of it."""
    with SandboxServer(port=0) as server:
        log.info("training sandbox on %s", server.address)
        yield training_for(server)


def training_for(server: SandboxServer) -> Training:
    """What the window needs of a running stand-in: its address, token and image view."""
    return Training(server.address, DEMO_TOKEN, functools.partial(describe_image, server))


def _value(obj: Any, getter: str) -> str:
    wrapped = getattr(obj, getter)()
    return "" if wrapped is None else str(wrapped.getValue())


def describe_image(server: SandboxServer, image_id: int) -> ImageRecord:
    """The stand-in's own record of ``image_id``: where it is, its files, pairs and tags."""
    project, dataset = server.location(image_id)
    state = server.state
    with state.lock:
        image = state.get("Image", image_id)
        fileset = image.getFileset()
        files: list[str] = []
        if fileset is not None:
            stored = state.get("Fileset", fileset.getId().getValue())
            for entry in stored.copyUsedFiles():
                files.append(_value(entry, "getClientPath"))
        pairs: list[tuple[str, str]] = []
        tags: list[str] = []
        for link in state.all("ImageAnnotationLink"):
            if link.getParent().getId().getValue() != image_id:
                continue
            child = link.getChild()
            kind = type(child).__name__
            if kind.startswith("MapAnnotation"):
                stored = state.get("MapAnnotation", child.getId().getValue())
                if _value(stored, "getNs") != CLIENT_NS:
                    continue  # the read-only acquisition record, not the user's pairs
                pairs.extend((nv.name, nv.value) for nv in stored.getMapValue())
            elif kind.startswith("TagAnnotation"):
                stored = state.get("TagAnnotation", child.getId().getValue())
                tags.append(_value(stored, "getTextValue"))
        name = _value(image, "getName")
    return ImageRecord(
        image_id, name, project, dataset, tuple(files), tuple(pairs), tuple(sorted(tags))
    )
