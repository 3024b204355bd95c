"""Print a PyInstaller bundle's unpacked size and its biggest parts; fail above a limit.

    python tools/bundle_size.py dist/cci-uploader [--limit-mb 250] [--top 15]

Sizes are in MB of 1,000,000 bytes (the stricter reading of "250 MB"). Parts
are grouped by package: the first folder under ``_internal`` (``PySide6``,
``numpy``), or for loose libraries the file itself. The exit status is 1 when
the total is above ``--limit-mb``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

MB = 1_000_000


def part_of(relative: Path) -> str:
    """The group a bundled file is counted under."""
    parts = relative.parts
    if parts and parts[0] == "_internal":
        parts = parts[1:]
    if len(parts) <= 1:
        return "/".join(parts) or "."
    if parts[0] == "PySide6" and len(parts) > 3 and parts[1] == "Qt":
        return "/".join(parts[:3])  # PySide6/Qt/lib, PySide6/Qt/plugins, ...
    return parts[0]


def sizes(root: Path) -> tuple[Counter[str], Counter[str]]:
    """Return bytes per part and per file, below ``root``."""
    by_part: Counter[str] = Counter()
    by_file: Counter[str] = Counter()
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            relative = path.relative_to(root)
            by_part[part_of(relative)] += size
            by_file[relative.as_posix()] += size
    return by_part, by_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the one-folder bundle, e.g. dist/cci-uploader")
    parser.add_argument("--limit-mb", type=float, default=250.0)
    parser.add_argument("--top", type=int, default=15, help="how many parts and files to list")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"{args.bundle} is not a folder; build the bundle first.", file=sys.stderr)
        return 2
    by_part, by_file = sizes(args.bundle)
    total = sum(by_part.values())
    print(f"Bundle {args.bundle}: {total / MB:.1f} MB in {len(by_file)} files")
    print(f"\nBiggest parts (of {len(by_part)}):")
    for name, size in by_part.most_common(args.top):
        print(f"  {size / MB:8.1f} MB  {name}")
    print("\nBiggest files:")
    for name, size in by_file.most_common(args.top):
        print(f"  {size / MB:8.1f} MB  {name}")
    if total > args.limit_mb * MB:
        print(
            f"\nFAIL: {total / MB:.1f} MB is above the {args.limit_mb:g} MB limit.", file=sys.stderr
        )
        return 1
    print(f"\nOK: {total / MB:.1f} MB is within the {args.limit_mb:g} MB limit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
