"""Damaged, truncated, random and mismatched input never escapes as anything but FormatError.

Every format plugin present is tested with every sample file it claims. A
damaged file must either read correctly (damage in pixel data is invisible)
or raise :class:`FormatError` with a one-line reason; any other exception,
a crash or a hang (pytest-timeout) fails. Where damage can never leave a
readable file (empty, a few bytes, random bytes, a wrong companion),
FormatError is required.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from cci_uploader.formats import FormatDescriptor, FormatError, all_formats, detect

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
MUTATIONS_PER_FORMAT = 200


@dataclass(frozen=True)
class Sample:
    module: FormatDescriptor
    main: Path
    companions: tuple[Path, ...]

    @property
    def id(self) -> str:
        return f"{self.module.name}:{self.main.name}"


def _samples() -> list[Sample]:
    found = []
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file()):
        module = detect(path)
        if module is not None:
            companions = module.read_metadata(path).companions
            found.append(Sample(module, path, tuple(companions)))
    return found


SAMPLE_LIST = _samples()


def _smallest_per_format() -> list[Sample]:
    best: dict[str, Sample] = {}
    for sample in SAMPLE_LIST:
        size = sum(p.stat().st_size for p in (sample.main, *sample.companions))
        current = best.get(sample.module.name)
        if current is None or size < sum(
            p.stat().st_size for p in (current.main, *current.companions)
        ):
            best[sample.module.name] = sample
    return [best[name] for name in sorted(best)]


def _stage(sample: Sample, folder: Path) -> tuple[Path, list[Path]]:
    """Copy a sample and its companions into ``folder``; return the copies."""
    folder.mkdir(parents=True, exist_ok=True)
    main = Path(shutil.copyfile(sample.main, folder / sample.main.name))
    companions = [Path(shutil.copyfile(c, folder / c.name)) for c in sample.companions]
    return main, companions


def _outcome(module: FormatDescriptor, path: Path, out_dir: Path) -> FormatError | None:
    """Read (and convert) ``path``; return the FormatError raised, if any.

    Any other exception propagates and fails the test.
    """
    try:
        module.read_metadata(path)
        if module.convert is not None:
            out_dir.mkdir(exist_ok=True)
            outputs = module.convert(path, out_dir)
            assert outputs, "convert returned no outputs without raising"
            assert all(p.is_file() and p.parent == out_dir for p in outputs)
    except FormatError as exc:
        _check_reason(exc)
        return exc
    return None


def _check_reason(exc: FormatError) -> None:
    reason = str(exc)
    assert reason.strip(), "FormatError without a reason"
    assert "\n" not in reason, f"reason is not one line: {reason!r}"
    assert len(reason) < 300, f"reason too long for a row message: {reason!r}"


def _require_error(module: FormatDescriptor, path: Path, out_dir: Path) -> None:
    assert _outcome(module, path, out_dir) is not None, f"{path.name} was accepted"


def test_every_format_has_a_sample() -> None:
    names = {sample.module.name for sample in SAMPLE_LIST}
    missing = [m.name for m in all_formats() if m.name not in names]
    assert not missing, f"no sample file for {missing}"


@pytest.mark.parametrize("sample", SAMPLE_LIST, ids=lambda s: s.id)
def test_samples_read_cleanly(sample: Sample, tmp_path: Path) -> None:
    assert _outcome(sample.module, sample.main, tmp_path / "out") is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sample", SAMPLE_LIST, ids=lambda s: s.id)
@pytest.mark.parametrize("length", [0, 1, 16, 100], ids=lambda n: f"{n}B")
def test_short_file_is_rejected(sample: Sample, length: int, tmp_path: Path) -> None:
    main, _ = _stage(sample, tmp_path / "in")
    with main.open("r+b") as fh:
        fh.truncate(length)
    _require_error(sample.module, main, tmp_path / "out")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sample", SAMPLE_LIST, ids=lambda s: s.id)
@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75, 0.99, -1], ids=lambda f: f"at{f}")
def test_truncated_file_reads_or_fails_cleanly(
    sample: Sample, fraction: float, tmp_path: Path
) -> None:
    main, _ = _stage(sample, tmp_path / "in")
    size = main.stat().st_size
    with main.open("r+b") as fh:
        fh.truncate(size - 1 if fraction == -1 else int(size * fraction))
    _outcome(sample.module, main, tmp_path / "out")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sample", SAMPLE_LIST, ids=lambda s: s.id)
@pytest.mark.parametrize("size", [7, 512, 65536])
def test_random_bytes_are_rejected(sample: Sample, size: int, tmp_path: Path) -> None:
    main, _ = _stage(sample, tmp_path / "in")
    main.write_bytes(random.Random(size).randbytes(size))
    _require_error(sample.module, main, tmp_path / "out")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sample", [s for s in SAMPLE_LIST if s.companions], ids=lambda s: s.id)
@pytest.mark.parametrize("damage", ["random", "empty", "truncated", "missing"])
def test_damaged_companion_is_rejected(sample: Sample, damage: str, tmp_path: Path) -> None:
    main, companions = _stage(sample, tmp_path / "in")
    for companion in companions:
        if damage == "random":
            companion.write_bytes(random.Random(companion.name).randbytes(4096))
        elif damage == "empty":
            companion.write_bytes(b"")
        elif damage == "truncated":
            companion.write_bytes(companion.read_bytes()[: companion.stat().st_size // 2])
        else:
            companion.unlink()
    _require_error(sample.module, main, tmp_path / "out")


def _wrong_companion_cases() -> list[tuple[Sample, Sample]]:
    """Pairs of samples of one format whose companions can be swapped by name."""
    cases = []
    for sample in SAMPLE_LIST:
        for other in SAMPLE_LIST:
            if (
                other is not sample
                and other.module is sample.module
                and len(other.companions) == len(sample.companions) > 0
            ):
                cases.append((sample, other))
    return cases


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("sample", "other"), _wrong_companion_cases(), ids=lambda s: s.id if s else ""
)
def test_wrong_companion_is_rejected(sample: Sample, other: Sample, tmp_path: Path) -> None:
    main, companions = _stage(sample, tmp_path / "in")
    for mine, theirs in zip(companions, other.companions, strict=True):
        shutil.copyfile(theirs, mine)
    _require_error(sample.module, main, tmp_path / "out")


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """Return ``data`` with one seeded kind of damage at random offsets."""
    buf = bytearray(data)
    kind = rng.choice(["flip", "flip", "truncate", "insert", "delete", "zero"])
    at = rng.randrange(len(buf))
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del buf[at:]
    elif kind == "insert":
        buf[at:at] = rng.randbytes(rng.randint(1, 64))
    elif kind == "delete":
        del buf[at : at + rng.randint(1, 64)]
    else:
        end = min(at + rng.randint(1, 256), len(buf))
        buf[at:end] = bytes(end - at)
    return bytes(buf)


MUTATION_CASES = [
    (sample, seed) for sample in _smallest_per_format() for seed in range(MUTATIONS_PER_FORMAT)
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("sample", "seed"),
    MUTATION_CASES,
    ids=[f"{s.module.name}-{seed:03d}" for s, seed in MUTATION_CASES],
)
def test_mutated_file_reads_or_fails_cleanly(sample: Sample, seed: int, tmp_path: Path) -> None:
    main, companions = _stage(sample, tmp_path / "in")
    rng = random.Random(f"{sample.module.name}-{seed}")
    target = rng.choice([main, *companions])
    target.write_bytes(_mutate(target.read_bytes(), rng))
    _outcome(sample.module, main, tmp_path / "out")
