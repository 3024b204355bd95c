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


class _Terminal:
    """The program's terminal, read up to each expected text in turn.

    Each ``expect`` looks only past the previous match: typing before a prompt
    shows is a race, since getpass flushes pending input (TCSAFLUSH) when it
    turns echo off, and the answer would be lost.
    """

    def __init__(self, fd: int) -> None:
        self.fd, self.text, self._pos = fd, "", 0

    def expect(self, needle: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while (found := self.text.find(needle, self._pos)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"waited for {needle!r}; got {self.text!r}"
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            try:
                self.text += os.read(self.fd, 4096).decode(errors="replace")
            except OSError:  # the terminal closed: the program ended
                raise AssertionError(f"ended before {needle!r}: {self.text!r}") from None
        self._pos = found + len(needle)

    def type(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())


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
        terminal = _Terminal(leader)
        try:
            terminal.expect("[ uploaded] copy0.czi")
            sandbox.expire(token)
            terminal.expect("Paste a new token to continue:")
            assert "session has expired" in terminal.text
            terminal.type("wrong-token")
            terminal.expect("did not accept the token")
            terminal.expect("Paste a new token to continue:")
            terminal.type(sandbox.new_token())
            terminal.expect("[ uploaded] copy2.czi")
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()
            os.close(leader)
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == ["copy0.czi", "copy1.czi", "copy2.czi"]
