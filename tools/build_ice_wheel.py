"""Build a zeroc-ice 3.6.5 wheel for Python >= 3.11 and cache it.

omero-py needs zeroc-ice 3.6.5, of which PyPI has only a source
distribution that no longer compiles on Python 3.11+.  Three small
source fixes make it build; this script applies them to a pristine
sdist from PyPI and leaves the wheel in a cache folder, so the
7-minute compile happens once per machine.

Usage: python tools/build_ice_wheel.py CACHE_DIR
Prints the path of the cached wheel.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.6.5"


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"patch target not found in {path.name}: {old!r}")
    path.write_text(text.replace(old, new))


def patch(src: Path) -> None:
    """Apply the three Python 3.11+ fixes to an unpacked sdist."""
    # 1. <eval.h> and <compile.h> were removed from the C API in 3.11.
    guard_open = "#if PY_VERSION_HEX < 0x030B0000\n"
    _replace(
        src / "src/Util.cpp",
        "#include <compile.h>\n",
        guard_open + "#include <compile.h>\n#endif\n",
    )
    _replace(
        src / "src/Slice.cpp",
        "#include <compile.h>\n#include <eval.h>\n",
        guard_open + "#include <compile.h>\n#include <eval.h>\n#endif\n",
    )
    # 2. PyThreadState.frame is private since 3.11.
    _replace(
        src / "src/Util.cpp",
        "PyThreadState_GET()->frame",
        "PyEval_GetFrame()",
    )
    # 3. The imp module is gone in 3.12.
    ice_py = src / "lib/Ice.py"
    _replace(ice_py, "import sys, string, imp, os,", "import sys, string, types, os,")
    _replace(ice_py, "imp.new_module(curr)", "types.ModuleType(curr)")


def main() -> int:
    cache = Path(sys.argv[1]).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    existing = sorted(cache.glob(f"zeroc_ice-{VERSION}-{tag}-*.whl"))
    if existing:
        print(existing[-1])
        return 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pip = [sys.executable, "-m", "pip"]
        subprocess.run(
            [
                *pip,
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"zeroc-ice=={VERSION}",
                "-d",
                str(tmp),
            ],
            check=True,
        )
        sdist = next(tmp.glob("zeroc*ice-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = tmp / f"zeroc-ice-{VERSION}"
        patch(src)
        print("compiling zeroc-ice (about 7 minutes, once per machine)...", file=sys.stderr)
        subprocess.run(
            [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(cache), str(src)],
            check=True,
        )
    built = sorted(cache.glob(f"zeroc_ice-{VERSION}-{tag}-*.whl"))
    if not built:
        raise SystemExit("zeroc-ice built, but no wheel was found in the cache")
    print(built[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
