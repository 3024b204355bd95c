"""The file list says when a date is the file's modification time, not its acquisition."""

from __future__ import annotations

import shutil
from pathlib import Path

from cci_uploader.config import Config
from cci_uploader.ui.models.files import ACQUIRED, FORMAT, FileModel
from cci_uploader.ui.workers import jobs


def test_fibics_row_says_where_its_date_comes_from(samples: Path, tmp_path: Path) -> None:
    export = Path(shutil.copy(samples / "fibics/fibics_test.tif", tmp_path))
    model = FileModel()
    model.add(jobs.scan([export, samples / "czi/CD_s_1_t_3_c_2_z_5.czi"], Config()))
    fibics, czi = (model.index(row, 0) for row in range(2))
    fibics_date = model.data(fibics.siblingAtColumn(ACQUIRED))
    assert fibics_date.endswith("(date taken from the file's modification time)")
    assert model.data(fibics.siblingAtColumn(FORMAT)) == "Fibics TIFF"
    assert model.data(czi.siblingAtColumn(ACQUIRED)) == "2016-02-12"
