"""An expired session in a terminal: the CLI asks for a new token and finishes the rest."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from cci_uploader.sandbox import SandboxServer


def _read_until(fd: int, needle: str, seen: list[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while needle not in "".join(seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"waited for {needle!r}; got {''.join(seen)!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            seen.append(os.read(fd, 4096).decode(errors="replace"))
        except OSError:  # the terminal closed: the program ended
            raise AssertionError(f"ended before {needle!r}: {''.join(seen)!r}") from None


def test_expired_session_prompts_for_a_new_token_and_finishes(
    sandbox: SandboxServer, token: str, samples: Path, tmp_path: Path, _isolated_dirs: Path
) -> None:
    data = (samples / "czi" / "tiles_z.czi").read_bytes()
    for n in range(3):
        (tmp_path / f"copy{n}.czi").write_bytes(data + bytes([n]))
    sandbox.faults.import_delay_s = 1.0  # time to expire the session after the first file
    exe = Path(sys.executable).with_name("cci-uploader")
    leader, follower = pty.openpty()
    env = {
        **os.environ,
        "CCI_OMERO_TOKEN": token,
        "CCI_UPLOADER_LOG_DIR": str(_isolated_dirs / "logs"),
    }
    with subprocess.Popen(
        [
            str(exe),
            "import",
            *(str(tmp_path / f"copy{n}.czi") for n in range(3)),
            "--server",
            sandbox.address,
            "--group",
            "Sandbox Lab",
        ],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        # Its own session: no controlling terminal of ours for getpass to find.
        start_new_session=True,
        env=env,
    ) as proc:
        os.close(follower)
        seen: list[str] = []
        try:
            _read_until(leader, "[ uploaded] copy0.czi", seen)
            sandbox.expire(token)
            _read_until(leader, "Paste a new token to continue:", seen)
            assert "session has expired" in "".join(seen)
            os.write(leader, b"wrong-token\n")
            _read_until(leader, "did not accept the token", seen)
            _read_until(leader, "Paste a new token to continue:", seen)
            os.write(leader, (sandbox.new_token() + "\n").encode())
            _read_until(leader, "[ uploaded] copy2.czi", seen)
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()
            os.close(leader)
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == ["copy0.czi", "copy1.czi", "copy2.czi"]
