"""Download a wheel and refuse it unless its SHA-256 is the pinned one.

    python tools/fetch_wheel.py URL SHA256 OUT_DIR

Prints the wheel's path. The Windows workflow installs the OME community's Ice
wheel this way, which is not on PyPI (so pip's own hash pinning of an index does
not apply). Exit status 1 when the hash differs or is not pinned.
"""

from __future__ import annotations

import hashlib
import re
import sys
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

MAX_BYTES = 200 * 1024 * 1024


def fetch(url: str, sha256: str, out_dir: Path) -> Path:
    name = Path(unquote(urlparse(url).path)).name
    if not name.endswith(".whl"):
        raise SystemExit(f"{url} does not name a wheel.")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    digest = hashlib.sha256()
    partial = target.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:
        size = 0
        while block := response.read(1 << 20):
            size += len(block)
            if size > MAX_BYTES:
                raise SystemExit(f"{url} is larger than {MAX_BYTES} bytes; refusing it.")
            digest.update(block)
            out.write(block)
    actual = digest.hexdigest()
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        partial.unlink()
        raise SystemExit(
            f"{name} is not pinned. Its SHA-256 is {actual}: check that against the "
            "publisher's release, then set it as the pin."
        )
    if actual != sha256:
        partial.unlink()
        raise SystemExit(f"{name} has SHA-256 {actual}, not the pinned {sha256}; refusing it.")
    partial.replace(target)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    print(fetch(sys.argv[1], sys.argv[2].lower(), Path(sys.argv[3])))
