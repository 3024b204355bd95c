"""``cci-uploader convert PATH... --out DIR [--json]``: convert without uploading.

Each microscope file found is converted to OME-TIFF in ``DIR`` (formats that
OMERO reads natively are only checked, and reported ``as-is``). Folders are
walked recursively and files no format claims are ignored; a single file
given by name that no format claims is an error. Folder structure below a
walked folder is mirrored in ``DIR``, so equal names never overwrite each other.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cci_uploader.formats import FormatDescriptor, FormatError, companion_owner, detect
from cci_uploader.isolation import unexpected

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

Status = Literal["converted", "as-is", "error"]


@dataclass(frozen=True)
class ConvertResult:
    """The outcome for one input file.

    Attributes
    ----------
    path : Path
        The input file (or the path given, if it could not be used).
    status : {"converted", "as-is", "error"}
        ``as-is``: the format is imported unchanged, nothing was written.
    outputs : list of Path
        The files written.
    reason : str or None
        Why the file failed, in one line; ``None`` unless ``status`` is ``error``.
    """

    path: Path
    status: Status
    outputs: list[Path] = field(default_factory=list)
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        """Return the JSON object ``--json`` prints for this result."""
        return {
            "path": str(self.path),
            "outputs": [str(p) for p in self.outputs],
            "status": self.status,
            "reason": self.reason,
        }


def _unclaimed_reason(path: Path) -> str:
    """Say why a file given by name cannot be converted."""
    owner = companion_owner(path)
    companions = owner.companions if owner is not None else None
    if companions is not None and companions.alone is not None:
        main = companions.main_of(path)
        if main is None:
            return companions.alone.format(name=path.name)
        return f"{path.name} belongs to {main.name}; convert {main.name} instead."
    if owner is not None:
        return f"{path.name} belongs to another file of the same name; convert that file."
    return f"{path.name} is not a microscope file this tool can read."


def _convert_one(path: Path, module: FormatDescriptor, out_dir: Path) -> ConvertResult:
    try:
        if module.convert is None:
            module.read_metadata(path)  # a damaged file is reported now, not at upload
            return ConvertResult(path, "as-is")
        out_dir.mkdir(parents=True, exist_ok=True)
        return ConvertResult(path, "converted", module.convert(path, out_dir))
    except FormatError as exc:
        return ConvertResult(path, "error", reason=str(exc))
    except OSError as exc:
        return ConvertResult(path, "error", reason=f"{path.name}: {exc.strerror or exc}")
    except Exception as exc:  # the per-file boundary: one file, one failure
        return ConvertResult(path, "error", reason=unexpected(path, "converted", exc))


def _walk(folder: Path, out_dir: Path) -> list[Path]:
    """Return the files below ``folder`` in a stable order.

    The list is taken before anything is written. When ``out_dir`` is a
    sub-folder of ``folder``, outputs of earlier runs there are left out.
    """
    root = folder.resolve()
    skip = out_dir if out_dir != root and out_dir.is_relative_to(root) else None
    return [
        entry
        for entry in sorted(folder.rglob("*"))
        if entry.is_file() and (skip is None or not entry.resolve().is_relative_to(skip))
    ]


def convert_paths(paths: Iterable[Path], out_dir: Path) -> Iterator[ConvertResult]:
    """Convert every microscope file in ``paths``, yielding one result per file.

    Parameters
    ----------
    paths : iterable of Path
        Files and folders; folders are walked recursively.
    out_dir : Path
        Where outputs go; created if missing. Sub-folders mirror walked folders.

    Yields
    ------
    ConvertResult
        One per file, as soon as it is done; stop iterating to cancel.
    """
    out_dir = out_dir.resolve()
    for given in paths:
        if given.is_dir():
            for path in _walk(given, out_dir):
                module = detect(path)
                if module is not None:
                    target = out_dir / path.parent.relative_to(given)
                    yield _convert_one(path, module, target)
        elif given.is_file():
            module = detect(given)
            if module is None:
                yield ConvertResult(given, "error", reason=_unclaimed_reason(given))
            else:
                yield _convert_one(given, module, out_dir)
        else:
            yield ConvertResult(given, "error", reason=f"{given} does not exist.")


def run(args: argparse.Namespace) -> int:
    """Handle ``convert``: print one line (or JSON object) per file; 1 if any failed."""
    failed = False
    for result in convert_paths(args.paths, args.out):
        failed |= result.status == "error"
        if args.json:
            print(json.dumps(result.as_json()), flush=True)
        elif result.status == "error":
            print(f"error      {result.path}: {result.reason}", flush=True)
        else:
            written = ", ".join(str(p) for p in result.outputs) or "nothing written"
            print(f"{result.status:<10} {result.path} -> {written}", flush=True)
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``convert`` subcommand to the CLI's ``subparsers``."""
    parser = subparsers.add_parser(
        "convert",
        help="convert microscope files to OME-TIFF without uploading",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per input file (JSON Lines)"
    )
    parser.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``convert`` on its own (used by tests and until the main CLI wires it in)."""
    parser = argparse.ArgumentParser(prog="cci-uploader")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status
