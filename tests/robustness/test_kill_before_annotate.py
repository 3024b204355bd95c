"""Issue 12: a ``kill -9`` between ``verifyUpload`` and annotating leaves nothing behind.

The image the server goes on to import has no pairs. A later run finds it as
a duplicate and must add the pairs it lacks, once: a run after that adds
nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer

CLI = Path(sys.executable).with_name("cci-uploader")
BOUND_S = 120.0
"""Longest wait for any one thing; a bound, never an assertion on time."""

IMPORT_HOLD_S = 5.0
"""How long the server's import of the killed run takes: the kill comes well before."""

POLL_HOLD_S = 1.0
"""How long the server holds the child's first ``getResponse``: our sign it is waiting."""


def _wait_until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.01)


def _argv(sandbox: SandboxServer, path: Path) -> list[str]:
    return [
        str(CLI),
        "import",
        str(path),
        "--server",
        sandbox.address,
        "--group",
        "Sandbox Lab",
        "--kv",
        "Sample=S1",
        "--json",
    ]


def _env(token: str) -> dict[str, str]:
    # os.environ already points config, data and logs under tmp_path (conftest).
    return {**os.environ, "CCI_OMERO_TOKEN": token}


def _rerun(sandbox: SandboxServer, token: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        _argv(sandbox, path),
        env=_env(token),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BOUND_S,
        cwd=path.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return dict(record)


def _annotations(sandbox: SandboxServer, image_id: int) -> list[Any]:
    return [
        link.getChild()
        for link in sandbox.objects("ImageAnnotationLink")
        if link.getParent().getId().getValue() == image_id
    ]


def _client_pairs(sandbox: SandboxServer, image_id: int) -> list[list[tuple[str, str]]]:
    """Each client-namespace MapAnnotation of the image, as its list of pairs."""
    return [
        [(nv.name, nv.value) for nv in a.getMapValue()]
        for a in _annotations(sandbox, image_id)
        if type(a).__name__ == "MapAnnotationI" and a.getNs().getValue() == om.CLIENT_NS
    ]


def _tags(sandbox: SandboxServer, image_id: int) -> list[str]:
    return sorted(
        sandbox.state.get("TagAnnotation", a.getId().getValue()).getTextValue().getValue()
        for a in _annotations(sandbox, image_id)
        if type(a).__name__ == "TagAnnotationI"
    )


def _counts(sandbox: SandboxServer) -> dict[str, int]:
    return {kind: len(sandbox.objects(kind)) for kind in sandbox.state.objects}


def _server_importing() -> bool:
    return any(t.name == "sandbox-import" and t.is_alive() for t in threading.enumerate())


def test_killed_while_omero_imports_then_reruns_add_the_missing_pairs_once(
    sandbox: SandboxServer, token: str, samples: Path, tmp_path: Path
) -> None:
    czi = Path(shutil.copyfile(samples / "czi" / "tiles_z.czi", tmp_path / "tiles_z.czi"))
    # The server takes a while to import, and holds the child's first poll of the
    # import handle: once that poll has arrived, the upload is verified and the
    # child is waiting while OMERO imports ("OMERO is importing"), not annotating.
    sandbox.faults.import_delay_s = IMPORT_HOLD_S
    sandbox.faults.hold["getResponse"] = POLL_HOLD_S
    with subprocess.Popen(
        _argv(sandbox, czi),
        env=_env(token),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    ) as child:
        _wait_until(
            lambda: "getResponse" not in sandbox.faults.hold or child.poll() is not None,
            "the child polls the import handle",
        )
        alive = child.poll() is None
        still_importing = not sandbox.objects("Image")
        child.kill()  # SIGKILL on POSIX: no finally, no atexit, no handle.close()
        out, err = child.communicate(timeout=BOUND_S)
    assert alive, f"the child ended before the kill:\n{err}"
    assert still_importing, f"the server finished before the kill:\n{err}"
    assert out == "", "the killed child reported a result"
    sandbox.faults.import_delay_s = 0.0  # a rerun that imported again would not wait

    _wait_until(
        lambda: bool(sandbox.objects("Image")) and not _server_importing(),
        "the server finishes the import the killed child started",
    )
    [image] = sandbox.objects("Image")
    image_id = image.getId().getValue()
    assert len(sandbox.objects("Fileset")) == 1
    assert _client_pairs(sandbox, image_id) == [], "the kill came after annotating"
    assert _tags(sandbox, image_id) == []

    again = _rerun(sandbox, token, czi)
    assert again["status"] == "duplicate", again
    assert "already on the server" in again["message"]
    assert again["image_ids"] == [image_id]
    assert [i.getId().getValue() for i in sandbox.objects("Image")] == [image_id]
    assert len(sandbox.objects("Fileset")) == 1
    # One file named on the command line, not a folder: no Folder pair.
    assert _client_pairs(sandbox, image_id) == [[("Sample", "S1")]]
    assert _tags(sandbox, image_id) == ["Sample: S1"]
    before = _counts(sandbox)

    third = _rerun(sandbox, token, czi)
    assert third["status"] == "duplicate", third
    assert third["image_ids"] == [image_id]
    assert _client_pairs(sandbox, image_id) == [[("Sample", "S1")]]
    assert _tags(sandbox, image_id) == ["Sample: S1"]
    assert _counts(sandbox) == before
