"""Refuse a machine-wide config that ordinary users can change.

The facility config decides which server the clean-up trusts and whether it
removes files; if any user could edit it (or plant one), any user could point
the clean-up elsewhere.  On Windows the file's and its folder's access control
lists are read (as SDDL, so well-known SIDs compare the same on every language
of Windows); on other systems the mode bits.
"""

from __future__ import annotations

import re
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# Broad groups of ordinary users: Everyone, Authenticated Users, Users, Interactive,
# Guests, Anonymous; by SDDL alias or SID.
_ORDINARY = {
    "WD", "AU", "BU", "IU", "BG", "AN",
    "S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-5-4", "S-1-5-32-546", "S-1-5-7",
}  # fmt: skip
_RIGHTS = {
    "GA": 0x10000000, "GR": 0x80000000, "GW": 0x40000000, "GX": 0x20000000,
    "RC": 0x20000, "SD": 0x10000, "WD": 0x40000, "WO": 0x80000,
    "RP": 0x10, "WP": 0x20, "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8,
    "LO": 0x80, "DT": 0x40, "CR": 0x100,
    "FA": 0x1F01FF, "FR": 0x120089, "FW": 0x120116, "FX": 0x1200A0,
}  # fmt: skip
_GENERIC = 0x10000000 | 0x40000000  # GENERIC_ALL, GENERIC_WRITE
_OWNERSHIP = 0x10000 | 0x40000 | 0x80000  # DELETE, WRITE_DAC, WRITE_OWNER
# A file's data (write, append); a folder's new files and deleting its files.
_FILE_WRITE = _GENERIC | _OWNERSHIP | 0x2 | 0x4
_FOLDER_WRITE = _GENERIC | _OWNERSHIP | 0x2 | 0x40
_ACE = re.compile(r"\(([^)]*)\)")


def _mask(rights: str) -> int:
    if rights.lower().startswith("0x"):
        return int(rights, 16)
    letters = [rights[i : i + 2] for i in range(0, len(rights), 2)]
    # An unknown right counts as every right: refusing is the safe side.
    return sum(_RIGHTS.get(r, 0xFFFFFFFF) for r in letters)


def writers_in_sddl(sddl: str, *, folder: bool) -> list[str]:
    """The ordinary-user SIDs an SDDL string's DACL lets write (or own) the object.

    Only allow entries that apply to the object itself count; inherit-only ones
    (flag ``IO``) do not.  A missing DACL (``D:NO_ACCESS_CONTROL``) lets everyone.
    """
    dacl = sddl.partition("D:")[2].split("S:")[0]
    if not sddl.count("D:") or "NO_ACCESS_CONTROL" in dacl:
        return ["Everyone"]
    write = _FOLDER_WRITE if folder else _FILE_WRITE
    found = []
    for ace in _ACE.findall(dacl):
        parts = ace.split(";")
        if len(parts) < 6:
            continue
        kind, flags, rights, sid = parts[0], parts[1], parts[2], parts[5]
        if kind not in ("A", "OA") or "IO" in flags:
            continue
        if sid.upper() in _ORDINARY and _mask(rights) & write:
            found.append(sid)
    return found


def _sddl(path: Path) -> str:  # pragma: no cover - Windows only
    if sys.platform != "win32":
        raise OSError("access control lists are read on Windows only")
    import ctypes
    from ctypes import wintypes

    advapi = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel = ctypes.WinDLL("kernel32", use_last_error=True)
    dacl_info, file_object = 0x4, 1
    descriptor = ctypes.c_void_p()
    status = advapi.GetNamedSecurityInfoW(
        wintypes.LPCWSTR(str(path)),
        file_object,
        dacl_info,
        None,
        None,
        None,
        None,
        ctypes.byref(descriptor),
    )
    if status != 0:
        raise OSError(status, f"cannot read the access control list of {path}")
    text = wintypes.LPWSTR()
    try:
        ok = advapi.ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor, 1, dacl_info, ctypes.byref(text), None
        )
        if not ok:
            raise ctypes.WinError(ctypes.get_last_error())
        try:
            return str(text.value)
        finally:
            kernel.LocalFree(text)
    finally:
        kernel.LocalFree(descriptor)


def _posix_writers(path: Path) -> list[str]:
    mode = path.stat().st_mode
    return [
        who for who, bit in (("its group", stat.S_IWGRP), ("everyone", stat.S_IWOTH)) if mode & bit
    ]


def ordinary_writers(path: Path, *, folder: bool) -> list[str]:
    """Who, beyond administrators, can change ``path`` (or, for a folder, its files)."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return writers_in_sddl(_sddl(path), folder=folder)
    return _posix_writers(path)


def unsafe_reason(config: Path) -> str | None:
    """Why the machine-wide ``config`` cannot be trusted; None when only staff can change it."""
    for target, folder in ((config, False), (config.parent, True)):
        try:
            who = ordinary_writers(target, folder=folder)
        except OSError as exc:
            return f"its permissions cannot be read ({exc})"
        if who:
            what = "the folder it is in" if folder else "it"
            return f"{', '.join(who)} can change {what}"
    return None
