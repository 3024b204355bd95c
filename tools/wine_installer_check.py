"""Compile the Windows installer under wine, then install, upgrade and uninstall it silently.

    python tools/wine_installer_check.py dist/cci-uploader [--iscc ISCC.exe] [--keep]

``./dev.sh bundle`` runs this after building the Linux bundle; ``./dev.sh setup``
installs wine, Xvfb and the npm package ``innosetup`` (which ships ISCC.exe).
Every check prints PASS or FAIL; the exit status is 1 when any check fails.

What it does:
  1. From the Linux bundle, makes the tree a Windows build has: the same
     ``_internal`` (every file, hard-linked; PyInstaller's Linux-only symlinks are
     left out, a Windows bundle has none) and the two programs,
     ``cci-uploader.exe`` and ``cci-uploader-cli.exe``, as placeholders (copies
     of the Linux launcher). A second, "previous version" tree has one more
     library in ``_internal``.
  2. Compiles installer/cci-uploader.iss for both, with the real Inno Setup
     compiler under wine (with /DCompression=none: only Setup.exe's size changes).
  3. In a fresh wine prefix, under one Xvfb for every wine run: installs the
     previous version, edits the facility config, upgrades, uninstalls; checks
     the files after each step (see ``Checks`` below).

What that proves: the script compiles with Inno Setup 6.4; each [Files] entry
finds its source in the real bundle layout; Setup's own logic works as written
(InstallDelete of _internal on upgrade, config installed once and kept, the
uninstaller removing the program and nothing of the facility's or the users');
Setup calls icacls with the right SIDs before installing and logs its exit code;
Setup.exe carries the version from pyproject.toml and the app icon.

What it does not prove: that the Windows bundle itself is right (its DLLs, the
Qt trimming of the Windows layout) or that the exes start (the placeholders are
Linux files); that the permissions are really set (wine's icacls is a stub that
answers 0); MinVersion, the 64-bit check and UAC (wine says Windows 10 x64,
and we run as root). The workflow's Windows job installs the real build on a
Windows runner for those.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pefile

ROOT = Path(__file__).resolve().parents[1]
ISS = ROOT / "installer" / "cci-uploader.iss"
EXAMPLE_CONFIG = ROOT / "installer" / "config.example.toml"
TASK = ROOT / "installer" / "cleanup-task.xml"
ICON = ROOT / "installer" / "cci-uploader.ico"
APP_NAME = "CCI OMERO Uploader"
EXES = ("cci-uploader.exe", "cci-uploader-cli.exe")
OLD_ONLY = Path("_internal") / "only-in-the-previous-version" / "old-library.dll"
# What Setup itself adds to {app}, beside the bundle.
SETUP_FILES = {"unins000.exe", "unins000.dat", "config.example.toml", "cleanup-task.example.xml"}
SIDS = ("*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F", "*S-1-5-32-545:(OI)(CI)RX")
OLD_VERSION = "0.0.1"
DEFAULT_ISCC = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "cci-uploader"
    / "innosetup"
    / "node_modules"
    / "innosetup"
    / "bin"
    / "ISCC.exe"
)


class Checks:
    """Named pass/fail results, printed as they come."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(f"  {'PASS' if ok else 'FAIL'}  {what}{'' if ok or not detail else f': {detail}'}")
        if not ok:
            self.failed.append(what)
        return ok


def project_version() -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    from windows_version import numeric, project_version

    version = project_version()
    numeric(version)  # a Windows file version needs MAJOR.MINOR.PATCH
    if version == OLD_VERSION:
        raise SystemExit(f"The check installs {OLD_VERSION} as the previous version; bump it.")
    return version


def windows_tree(bundle: Path, out: Path, *, previous: bool) -> Path:
    """A Windows-layout copy of the Linux bundle in ``out/cci-uploader``."""
    tree = out / "cci-uploader"
    if tree.exists():
        shutil.rmtree(tree)
    for path in sorted((bundle / "_internal").rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        target = tree / path.relative_to(bundle)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
    launcher = bundle / "cci-uploader"
    for exe in EXES:
        shutil.copy2(launcher, tree / exe)
    if previous:
        (tree / OLD_ONLY).parent.mkdir(parents=True)
        (tree / OLD_ONLY).write_bytes(b"a library the next version no longer ships\n")
    return tree


def files_below(folder: Path) -> dict[str, int]:
    """Relative path (with /) to size, of every file below ``folder``."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()
    }


def win(path: Path) -> str:
    """The wine path of a Linux path (drive Z: is /)."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


@contextmanager
def xvfb() -> Iterator[str]:
    """One X display for every wine run (a second Xvfb right after one made ISCC fail once)."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise SystemExit("Xvfb did not start (is the xvfb package installed? ./dev.sh setup).")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)


class Wine:
    """Runs Windows programs in one wine prefix and waits until all of them have ended."""

    def __init__(self, prefix: Path, display: str) -> None:
        self.prefix = prefix
        self.env = {
            **os.environ,
            "WINEPREFIX": str(prefix),
            "WINEARCH": "win64",
            "WINEDEBUG": "-all",
            # No Mono or Gecko: nothing here needs them, and their installers would ask.
            "WINEDLLOVERRIDES": "mscoree,mshtml=",
            "DISPLAY": display,
        }

    def run(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["wine", *argv],
            env=self.env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        # Setup and the uninstaller start helper processes: wait for every one of them.
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=timeout, check=True)
        return done

    def boot(self) -> None:
        if self.prefix.exists():
            shutil.rmtree(self.prefix)
        subprocess.run(["wineboot", "-i"], env=self.env, capture_output=True, check=True)
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=300, check=True)

    def windows_version(self, name: str) -> None:
        """Make wine say it is this Windows (``win7``, ``win10``)."""
        subprocess.run(["winecfg", "/v", name], env=self.env, capture_output=True, check=True)
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=300, check=True)

    def stop(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env, capture_output=True, check=False)

    @property
    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    def local_appdata(self) -> Path:
        (user,) = [p for p in (self.drive_c / "users").iterdir() if p.name != "Public"]
        return user / "AppData" / "Local"


def compile_setup(
    wine: Wine, iscc: Path, iss: Path, tree: Path, version: str, out: Path
) -> Path | None:
    started = time.monotonic()
    done = wine.run(
        str(iscc),
        "/Q",
        f"/DAppVersion={version}",
        f"/DBundleDir={win(tree)}",
        "/DCompression=none",
        f"/O{win(out)}",
        win(iss),
    )
    setup = out / f"CCI-OMERO-Uploader-Setup-{version}.exe"
    if done.returncode != 0 or not setup.is_file():
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
        return None
    print(f"  compiled {setup.name} in {time.monotonic() - started:.0f} s")
    return setup


def run_setup(wine: Wine, exe: str, log: Path, *args: str) -> tuple[int, str]:
    started = time.monotonic()
    silent = ("/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART")
    done = wine.run(exe, *silent, f"/LOG={win(log)}", *args)
    name = exe.rsplit("\\", 1)[-1]
    print(f"  {name} finished in {time.monotonic() - started:.0f} s")
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    return done.returncode, text


def file_version(exe: Path) -> str:
    pe = pefile.PE(str(exe), fast_load=False)
    try:
        for info in getattr(pe, "FileInfo", [[]])[0]:
            for table in getattr(info, "StringTable", []):
                value = table.entries.get(b"FileVersion")
                if value:
                    return value.decode().strip()  # Inno Setup pads it with spaces
        return ""
    finally:
        pe.close()


def carries_icon(exe: Path) -> bool:
    """Whether one of the app icon's images is among the exe's resources."""
    ico = ICON.read_bytes()
    count = int.from_bytes(ico[4:6], "little")
    images = []
    for i in range(count):
        entry = ico[6 + 16 * i : 22 + 16 * i]
        size, offset = int.from_bytes(entry[8:12], "little"), int.from_bytes(entry[12:16], "little")
        images.append(ico[offset : offset + size])
    data = exe.read_bytes()
    return any(image in data for image in images)


def check_installed(checks: Checks, app: Path, tree: Path, label: str) -> None:
    installed = files_below(app) if app.is_dir() else {}
    checks.check(
        all((app / exe).is_file() for exe in EXES) and (app / "_internal").is_dir(),
        f"{label}: both exes and _internal are in Program Files",
    )
    expected = files_below(tree)
    extra = sorted(set(installed) - set(expected) - SETUP_FILES)
    missing = sorted(set(expected) - set(installed))
    checks.check(not missing, f"{label}: every file of the bundle is installed", f"{missing[:5]}")
    checks.check(not extra, f"{label}: no file that is not in this version", f"{extra[:5]}")
    resized = [name for name, size in expected.items() if installed.get(name, size) != size]
    checks.check(not resized, f"{label}: installed files are this version's", f"{resized[:5]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the Linux bundle, e.g. dist/cci-uploader")
    parser.add_argument("--iscc", type=Path, default=Path(os.environ.get("CCI_ISCC", DEFAULT_ISCC)))
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "wine-check")
    parser.add_argument("--keep", action="store_true", help="keep the wine prefix for a look")
    parser.add_argument("--iss", type=Path, default=ISS, help="another .iss, to see a check fail")
    args = parser.parse_args(argv)
    if not (args.bundle / "cci-uploader").is_file() or not (args.bundle / "_internal").is_dir():
        print(f"{args.bundle} is not a bundle; run ./dev.sh bundle.", file=sys.stderr)
        return 2
    if not args.iscc.is_file():
        print(f"No Inno Setup compiler at {args.iscc}; run ./dev.sh setup.", file=sys.stderr)
        return 2
    started = time.monotonic()
    version = project_version()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*.log"):
        old.unlink()
    old_tree = windows_tree(args.bundle, work / "previous", previous=True)
    new_tree = windows_tree(args.bundle, work / "current", previous=False)
    out = work / "setup"
    shutil.rmtree(out, ignore_errors=True)
    checks = Checks()
    with xvfb() as display:
        wine = Wine(work / "prefix", display)
        try:
            wine.boot()
            print(f"Wine prefix ready after {time.monotonic() - started:.0f} s.")
            old_setup = compile_setup(wine, args.iscc, args.iss, old_tree, OLD_VERSION, out)
            new_setup = compile_setup(wine, args.iscc, args.iss, new_tree, version, out)
            if not checks.check(old_setup is not None and new_setup is not None, "ISCC compiles"):
                return 1
            assert old_setup is not None and new_setup is not None
            run_checks(checks, wine, work, old_tree, new_tree, old_setup, new_setup, version)
        finally:
            wine.stop()
            if not args.keep:
                shutil.rmtree(wine.prefix, ignore_errors=True)
    print(f"\nInstaller check took {time.monotonic() - started:.0f} s.")
    if checks.failed:
        print(f"FAIL: {len(checks.failed)} installer check(s) failed.", file=sys.stderr)
        return 1
    print("OK: the installer compiles, installs, upgrades and uninstalls under wine.")
    return 0


def run_checks(
    checks: Checks,
    wine: Wine,
    work: Path,
    old_tree: Path,
    new_tree: Path,
    old_setup: Path,
    new_setup: Path,
    version: str,
) -> None:
    app = wine.drive_c / "Program Files" / APP_NAME
    data = wine.drive_c / "ProgramData" / "cci-uploader"
    config, task = data / "config.toml", data / "cleanup-task.xml"
    menu = wine.drive_c / "ProgramData/Microsoft/Windows/Start Menu/Programs" / APP_NAME

    print("Setup.exe:")
    checks.check(file_version(new_setup) == version, f"file version is {version}")
    checks.check(carries_icon(new_setup), "carries the app icon")

    print("Windows 7 (a new wine prefix says it is Windows 7):")
    wine.windows_version("win7")
    code, log = run_setup(wine, win(old_setup), work / "win7.log")
    checks.check(
        code != 0 and "does not support the version of Windows" in log and not app.exists(),
        "Setup refuses to install (MinVersion)",
        f"exit code {code}",
    )
    wine.windows_version("win10")

    print(f"Install {OLD_VERSION} on Windows 10:")
    code, log = run_setup(wine, win(old_setup), work / "install.log")
    checks.check(code == 0, "Setup exits 0", f"exit code {code}; see {work / 'install.log'}")
    check_installed(checks, app, old_tree, "install")
    checks.check(
        config.is_file() and config.read_bytes() == EXAMPLE_CONFIG.read_bytes(),
        "the facility config is in ProgramData\\cci-uploader",
    )
    checks.check(
        task.is_file() and task.read_bytes() == TASK.read_bytes(),
        "the clean-up task definition is in ProgramData\\cci-uploader, not Program Files",
    )
    checks.check(
        {p.name for p in menu.glob("*.lnk")}
        == {f"{APP_NAME}.lnk", f"{APP_NAME} (training sandbox).lnk"},
        "two Start-menu entries",
    )
    icacls = [line for line in log.splitlines() if "Config folder permissions: icacls" in line]
    checks.check(
        len(icacls) == 1
        and "/inheritance:r" in icacls[0]
        and all(sid in icacls[0] for sid in SIDS)
        and "icacls exit code: 0" in log,
        "Setup sets the config folder's permissions by SID before installing",
        f"{icacls}",
    )

    print(f"Upgrade to {version}:")
    edited = config.read_text(encoding="utf-8") + '\n[microscopes]\ndefault = "Edited"\n'
    config.write_text(edited, encoding="utf-8")
    task.write_text(task.read_text(encoding="utf-8") + "<!-- edited -->\n", encoding="utf-8")
    user = wine.local_appdata() / "cci-uploader"
    history, user_log = user / "history.sqlite3", user / "Logs" / "cci-uploader.log"
    user_log.parent.mkdir(parents=True, exist_ok=True)
    history.write_bytes(b"SQLite format 3\x00 (the user's history)")
    user_log.write_text("the user's log\n", encoding="utf-8")
    code, _ = run_setup(wine, win(new_setup), work / "upgrade.log")
    checks.check(code == 0, "Setup exits 0", f"exit code {code}; see {work / 'upgrade.log'}")
    check_installed(checks, app, new_tree, "upgrade")
    checks.check(not (app / OLD_ONLY).exists(), "the previous version's library is gone")
    checks.check(config.read_text(encoding="utf-8") == edited, "the edited config survives")
    checks.check(task.read_text(encoding="utf-8").endswith("<!-- edited -->\n"), "and the task")

    print("Uninstall:")
    uninstaller = f"C:\\Program Files\\{APP_NAME}\\unins000.exe"
    code, _ = run_setup(wine, uninstaller, work / "uninstall.log")
    checks.check(code == 0, "the uninstaller exits 0", f"exit code {code}")
    left = sorted(files_below(app)) if app.exists() else []
    checks.check(not left, "the program is removed", f"{len(left)} files left: {left[:5]}")
    checks.check(not menu.exists(), "the Start-menu entries are removed")
    checks.check(
        config.is_file() and config.read_text(encoding="utf-8") == edited,
        "the facility config stays",
    )
    checks.check(task.is_file(), "the clean-up task definition stays")
    checks.check(history.is_file() and user_log.is_file(), "the user's history and log stay")


if __name__ == "__main__":
    sys.exit(main())
