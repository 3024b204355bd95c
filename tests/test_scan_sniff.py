"""A format's sniff that raises on one file costs that file's row only, and it says so."""

from __future__ import annotations

import dataclasses
import importlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from cci_uploader.config import Config
from cci_uploader.formats.registry import BUILTIN_MODULES
from cci_uploader.scan import scan
from tests.conftest import SAMPLES


def test_a_sniff_that_raises_is_one_rows_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = (importlib.import_module(f"cci_uploader.formats.{m}") for m in BUILTIN_MODULES)
    module = next(m for m in modules if m.FORMAT.name == "sem_tif")
    original = module.FORMAT.is_supported
    calls: list[str] = []

    def sniff(path: Path) -> bool:
        calls.append(path.name)
        if path.name == "odd.tif":
            raise RuntimeError("the sniff tripped")
        return bool(original(path))

    monkeypatch.setattr(module, "FORMAT", dataclasses.replace(module.FORMAT, is_supported=sniff))
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(SAMPLES / "sem_tif" / "sample6_001.tif", folder / "good.tif")
    shutil.copyfile(SAMPLES / "sem_tif" / "sample6_001.tif", folder / "odd.tif")
    tifffile.imwrite(folder / "plain.tif", np.zeros((4, 4), np.uint8))  # no SmartSEM tag
    result = scan([folder], Config(), workers=0)
    rows = {e.path.name: e for e in result.entries}
    assert rows["good.tif"].ok
    assert not rows["odd.tif"].ok
    assert "odd.tif could not be read" in (rows["odd.tif"].reason or "")
    assert [i.path.name for i in result.ignored] == ["plain.tif"]
    # Each sniffed once, when the files were listed; only the one that raised again.
    assert calls.count("good.tif") == calls.count("plain.tif") == 1
