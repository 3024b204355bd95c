"""A format is one descriptor in the registry: a fake one reaches every part that lists formats.

As bioio's plugin tests do, a fake format (``.fake`` files: a magic line, the
size, 8-bit pixels) is registered, and the scan, the import queue against the
stand-in, the file list and the Add files dialog all take it with no other
change. It is unregistered after each test.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.formats import (
    FileMetadata,
    FormatDescriptor,
    FormatError,
    all_formats,
    detect,
    file_dialog_filter,
    get_format,
    markdown_table,
    register,
    unregister,
)
from cci_uploader.formats.base import starts_with
from cci_uploader.formats.ometiff import OmeImage, write_converted
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan, plan_file
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan, scan_paths
from cci_uploader.ui.models.files import FORMAT, FileModel
from cci_uploader.ui.widgets.file_panel import pick_files
from cci_uploader.ui.workers import jobs

_MAGIC = b"FAKEIMG\n"
_ACQUIRED = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def _pixels(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    if not raw.startswith(_MAGIC) or len(raw) < len(_MAGIC) + 4:
        raise FormatError(f"{path.name} is not a fake image.")
    height, width = struct.unpack_from("<HH", raw, len(_MAGIC))
    body = raw[len(_MAGIC) + 4 :]
    if len(body) != height * width:
        raise FormatError(f"{path.name} is incomplete.")
    return np.frombuffer(body, np.uint8).reshape(height, width)


def _read_metadata(path: Path) -> FileMetadata:
    height, width = _pixels(path).shape
    return FileMetadata(
        microscope="Fake scope",
        acquired=_ACQUIRED,
        pixel_size_m=(1e-6, 1e-6),
        extra={"Size": f"{width} x {height}"},
    )


def _convert(path: Path, out_dir: Path) -> list[Path]:
    image = OmeImage(path.stem, _pixels(path), (1e-6, 1e-6))
    return write_converted(path, out_dir, [image], _read_metadata(path), manufacturer="Fakes Inc.")


FAKE = FormatDescriptor(
    name="fake",
    label="Fake test format",
    extensions=(".fake",),
    is_supported=lambda path: path.suffix.lower() == ".fake" and starts_with(path, _MAGIC),
    read_metadata=_read_metadata,
    convert=_convert,
)


def _write_fake(path: Path, height: int = 24, width: int = 32) -> Path:
    pixels = (np.arange(height * width) % 251).astype(np.uint8)
    path.write_bytes(_MAGIC + struct.pack("<HH", height, width) + pixels.tobytes())
    return path


@pytest.fixture
def fake() -> Iterator[FormatDescriptor]:
    register(FAKE)
    yield FAKE
    unregister(FAKE.name)


def test_the_scan_takes_the_fake_format_and_forgets_it_when_unregistered(
    fake: FormatDescriptor, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "data"  # beside the tests' app folders (the scan cache is one)
    tmp_path.mkdir()
    _write_fake(tmp_path / "cells.fake")
    (tmp_path / "notes.txt").write_text("not microscopy")

    result = scan([tmp_path], Config())
    [entry] = result.entries
    assert (entry.path.name, entry.format, entry.reason) == ("cells.fake", "fake", None)
    assert plan_file(entry, Config()).microscope == "Fake scope"
    assert [i.path.name for i in result.ignored] == ["notes.txt"]

    unregister(fake.name)
    after = scan([tmp_path], Config())
    assert after.entries == []
    assert sorted(i.path.name for i in after.ignored) == ["cells.fake", "notes.txt"]
    [alone] = scan_paths([tmp_path / "cells.fake"], Config())
    assert alone.format == "unsupported"
    assert "Fake test format" not in (alone.reason or "")


def test_an_unsupported_file_is_told_the_fake_format_too(
    fake: FormatDescriptor, tmp_path: Path
) -> None:
    [entry] = scan_paths([tmp_path / "notes.txt"], Config())
    assert "Fake test format" in (entry.reason or "")


def test_a_fake_file_with_the_wrong_content_is_not_claimed(
    fake: FormatDescriptor, tmp_path: Path
) -> None:
    impostor = tmp_path / "impostor.fake"
    impostor.write_bytes(b"something else")
    assert detect(impostor) is None
    assert detect(_write_fake(tmp_path / "real.fake")) is fake


def test_the_queue_converts_and_imports_a_fake_file_into_the_stand_in(
    fake: FormatDescriptor, conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    source = _write_fake(tmp_path / "cells.fake")
    queue = ImportQueue(
        plan(scan_paths([source], Config()), Config(), [("Sample", "S1")]), history=None
    )
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.UPLOADED, entry.message
    [image] = sandbox.objects("Image")
    assert image.getName().getValue() == "cells.ome.tif"
    assert list(entry.image_ids) == [image.getId().getValue()]


def test_the_fake_converter_writes_an_ome_tiff_with_its_pixels(
    fake: FormatDescriptor, tmp_path: Path
) -> None:
    source = _write_fake(tmp_path / "cells.fake")
    convert = get_format("fake").convert
    assert convert is not None
    [out] = convert(source, tmp_path / "out")
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        assert np.array_equal(tif.asarray(), _pixels(source))


def test_the_file_list_and_the_add_files_dialog_show_the_fake_format(
    fake: FormatDescriptor, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write_fake(tmp_path / "cells.fake")
    model = FileModel()
    model.add(jobs.scan([source], Config()))
    assert model.data(model.index(0, FORMAT)) == "Fake test format"

    asked: list[str] = []

    def dialog(parent: QWidget, caption: str, folder: str, filters: str) -> tuple[list[str], str]:
        asked.append(filters)
        return [str(source)], filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", dialog)
    parent = QWidget()
    qtbot.addWidget(parent)
    assert pick_files(parent) == [source]
    [filters] = asked
    groups = filters.split(";;")
    assert groups[0].startswith("Microscope files (*.czi ") and "*.fake" in groups[0]
    assert "Fake test format (*.fake)" in groups
    assert groups[-1] == "All files (*)"

    unregister(fake.name)
    assert "*.fake" not in file_dialog_filter()


def test_a_second_format_of_the_same_name_is_refused(fake: FormatDescriptor) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(FAKE)
    assert [f.name for f in all_formats()].count("fake") == 1


def test_the_formats_page_lists_every_built_in_format() -> None:
    """``docs/formats.md`` holds the registry's table; regenerate it with ``markdown_table()``."""
    assert markdown_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/formats.md is out of date; its table should read:\n" + markdown_table()
    )
