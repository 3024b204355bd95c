"""The fast paths of SmartSEM TIFF reading give what tifffile gives, only sooner."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from hypothesis import given
from hypothesis import strategies as st

from cci_uploader.formats import sem_tif
from cci_uploader.formats._tiff_tags import first_page_tags

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
CZ_SEM = 34118


def _same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down (NaN equal to NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _tifffile_value(path: Path) -> Any:
    with tifffile.TiffFile(path) as tif:
        return tif.pages.first.tags[CZ_SEM].value


def _write(path: Path, text: bytes) -> Path:
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), extratags=[(CZ_SEM, 1, len(text), text)])
    return path


@pytest.mark.parametrize("name", ["sample6_001.tif", "test_tiff_Zeiss_SEM_1k.tif"])
def test_samples_parse_as_tifffile_parses_them(name: str) -> None:
    path = SAMPLES / "sem_tif" / name
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages.first.tags[CZ_SEM]
        tif.filehandle.seek(tag.valueoffset)
        ours = sem_tif.parse_cz_sem(tif.filehandle.read(tag.count))
    theirs = _tifffile_value(path)
    assert len(theirs) > 700
    assert _same(ours, theirs)


LINES = [
    "AP_MAG", "Mag = 1.00 K X", "AP_WD", "WD = 5.1 mm", "DP_X", "Flag = Yes", "Gun = Off",
    "No value here", "Time :9:40:32", "AP_NAN", "N = nan", "AP_INF", "I = -inf um", "42",
    "3.5", "", "  7 ", "x=1", "A_B", "label = 1_000 pA", "Ü = ½ mm", "Mode = Auto Focus On",
    "EMPTY", "E =", "DP_ONE", "One = On", "AP_SPACE", "S = 1 2 3", "K: v: w", "Ⅻ = Ⅻ",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(12))
def test_any_text_parses_as_tifffile_parses_it(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = [rng.choice(LINES) for _ in range(rng.randrange(1, 300))]
    raw = "\r\n".join(lines).encode("utf-8" if seed % 2 else "cp1252", errors="replace")
    path = _write(tmp_path / "t.tif", raw + b"\0junk after the end")
    with tifffile.TiffFile(path) as tif:
        ours = sem_tif._sem_tag(tif, tif.pages.first.tags[CZ_SEM])
    assert _same(ours, _tifffile_value(path))


def test_first_page_tags_are_the_ones_tifffile_reads(tmp_path: Path) -> None:
    paths = [*sorted((SAMPLES / "sem_tif").iterdir()), SAMPLES / "fibics" / "fibics_test.tif"]
    big = tmp_path / "big.tif"
    tifffile.imwrite(big, np.zeros((4, 4), np.uint16), bigtiff=True, extratags=[(999, 2, 1, b"x")])
    for path in [*paths, big]:
        with tifffile.TiffFile(path) as tif:
            assert first_page_tags(path) == frozenset(t.code for t in tif.pages.first.tags)
    (tmp_path / "no.tif").write_bytes(b"II*\0" + b"\xff" * 4)
    assert first_page_tags(tmp_path / "no.tif") is None
    assert first_page_tags(tmp_path / "missing.tif") is None


def test_a_plain_tiff_is_told_apart_without_tifffile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("tifffile opened the file")

    monkeypatch.setattr(sem_tif.tifffile, "TiffFile", refuse)
    assert not sem_tif.is_supported(path)


def _number_by_trying(text: str) -> Any:
    """tifffile's ``astype``: int, else float, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except (ValueError, TypeError, UnicodeEncodeError):
            pass
    return text


@given(
    st.one_of(
        st.from_regex(r"\A[ +-]?[0-9]{0,4}\.?[0-9]{0,4}([eE][+-]?[0-9]{1,3})? ?\Z"),
        st.text(alphabet=st.sampled_from(list("0123456789+-.eE_ inaf½٣")), max_size=8),
    )
)
def test_numbers_read_as_tifffile_reads_them(text: str) -> None:
    assert _same(sem_tif._number(text), _number_by_trying(text))
