"""The whole user journey in the real window, against the stand-in over real Ice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import COLOURS, NAME, STATUS, TARGET
from cci_uploader.ui.settings import AppSettings
from tests.ui.uihelpers import WEB_URL, Outside, add, connect, run_to_end, statuses

# Read by hand from the files' XML (see tests/cli/test_import_cli.py), Europe/Stockholm.
KNOWN_TARGETS = {
    "tiles_z.czi": "LSM 880 IndiMo, AxioObserver / 2020-12-15",
    "RGB-8bit.czi": "Unknown microscope / 2019-12-07",
    "CD_s_1_t_3_c_2_z_5.czi": "Castor.Stand / 2016-02-12",
}
SAMPLE_ENTRIES = 14  # 5 CZI, 3 EMD, 2 SEM TIFF, 1 Fibics, 2 EMI+SER pairs, 1 MRC+XML pair


def _seed_value(sandbox: SandboxServer, token: str, group: str, value: str, tmp: Path) -> None:
    """Someone already used ``Sample=value`` in ``group``: an image annotated with it."""
    source = Path(__file__).resolve().parents[2].parent / "shared/samples/czi/tiles_z.czi"
    seed = tmp / f"seed-{value}.czi"
    seed.write_bytes(source.read_bytes() + value.encode())
    conn = om.connect(sandbox.address, token)
    try:
        conn.switch_group(group)
        list(
            ImportQueue(
                plan(scan_paths([seed], Config()), Config(), [("Sample", value)]), history=None
            ).run(conn)
        )
    finally:
        conn.close()


def _annotations(sandbox: SandboxServer, image_id: int) -> tuple[list[Any], set[str]]:
    children = [
        link.getChild()
        for link in sandbox.objects("ImageAnnotationLink")
        if link.getParent().getId().getValue() == image_id
    ]
    maps = [
        c
        for c in children
        if type(c).__name__ == "MapAnnotationI" and c.getNs().getValue() == om.CLIENT_NS
    ]
    tags = {
        sandbox.state.get("TagAnnotation", c.getId().getValue()).getTextValue().getValue()
        for c in children
        if type(c).__name__ == "TagAnnotationI"
    }
    return maps, tags


def test_full_journey_then_second_import_is_orange(
    qtbot: QtBot,
    stockholm: str,
    sandbox: SandboxServer,
    token: str,
    samples: Path,
    tmp_path: Path,
    window: MainWindow,
    outside: Outside,
    settings: AppSettings,
    make_window: Callable[..., MainWindow],
) -> None:
    lab, core = sandbox.seed.lab_group, sandbox.seed.core_group
    _seed_value(sandbox, token, core.name, "Mouse 7", tmp_path)
    _seed_value(sandbox, token, lab.name, "Rat 1", tmp_path)
    seeded_images = len(sandbox.objects("Image"))

    # 1. paste a token and connect
    bar = window.connection_bar
    assert bar.token_edit.echoMode() is QLineEdit.EchoMode.Password
    QGuiApplication.clipboard().setText(token)
    bar.token_edit.setFocus()
    qtbot.keyClick(bar.token_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert bar.token_edit.text() == token
    qtbot.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected as demo" in bar.state_label.text())
    assert sandbox.address in bar.state_label.text()

    # 2. pick a group: the default one comes preselected, its values load in the background
    picker, pairs = window.group_picker, window.pairs_editor
    assert picker.current_group() == lab.id
    assert picker.combo.currentText() == f"{lab.name} (default)"
    qtbot.waitUntil(lambda: pairs.value_combo.findText("Rat 1") >= 0)
    picker.select(core.id)
    qtbot.waitUntil(lambda: pairs.value_combo.findText("Mouse 7") >= 0)
    assert pairs.value_combo.findText("Rat 1") < 0
    assert settings.last_group(sandbox.address) == core.id

    # 3. add a Sample pair, picking the existing value
    assert pairs.current_key() == "Sample"
    pairs.value_combo.setCurrentIndex(pairs.value_combo.findText("Mouse 7"))
    qtbot.mouseClick(pairs.add_button, Qt.MouseButton.LeftButton)
    assert pairs.pairs() == [("Sample", "Mouse 7")]

    # 4. add the sample folder: pairs are one row with their companion
    add(qtbot, window, outside, samples, rows=SAMPLE_ENTRIES)
    model = window.model
    names = [model.index(r, NAME).data() for r in range(model.rowCount())]
    emi = model.index(names.index("64x64_TEM_images_acquire.emi"), NAME)
    assert model.rowCount(emi) == 1
    assert model.index(0, NAME, emi).data() == "64x64_TEM_images_acquire_1.ser"
    assert "64x64_TEM_images_acquire_1.ser" not in names
    assert statuses(window) == [Status.PENDING] * SAMPLE_ENTRIES

    # 5. import: every row ends green with its target
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.UPLOADED] * SAMPLE_ENTRIES
    for number, row in enumerate(model.rows()):
        target = model.index(number, TARGET).data()
        assert target == row.file.target
        ids = row.image_ids
        assert model.index(number, STATUS).data() == (
            f"Uploaded (image {ids[0]})"
            if len(ids) == 1
            else f"Uploaded ({len(ids)} images, {ids[0]}–{ids[-1]})"
        )
        assert row.message == f"uploaded to {target}"
        assert (
            model.index(number, STATUS).data(Qt.ItemDataRole.BackgroundRole)
            == COLOURS[Status.UPLOADED]
        )
        if row.scan.path.name in KNOWN_TARGETS:
            assert target == KNOWN_TARGETS[row.scan.path.name]
        # on the server: the right Project/Dataset, group, pairs, tags and Folder
        assert row.image_ids
        for image_id in row.image_ids:
            assert " / ".join(sandbox.location(image_id)) == target
            image = sandbox.state.get("Image", image_id)
            assert image.getDetails().getGroup().getId().getValue() == core.id
            [kv], tags = _annotations(sandbox, image_id)
            assert kv.getNs().getValue() == om.CLIENT_NS
            assert [(nv.name, nv.value) for nv in kv.getMapValue()] == [
                ("Sample", "Mouse 7"),
                ("Folder", "samples"),
            ]
            assert tags == {"Sample: Mouse 7", "Folder: samples"}
    uploaded_images = len(sandbox.objects("Image"))
    assert uploaded_images > seeded_images + SAMPLE_ENTRIES - 1
    assert f"Done: {SAMPLE_ENTRIES} uploaded" in window.status_line.label.text()

    # double-clicking a green row opens the image in OMERO.web
    first = model.index(0, NAME)
    viewport = window.file_panel.view.viewport()
    centre = window.file_panel.view.visualRect(first).center()
    # An item view only sees a double click that follows a click.
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    assert outside.urls == [f"{WEB_URL}img_detail/{model.rows()[0].image_ids[0]}/"]

    # a second import of the same folder: every row orange, nothing new on the server
    qtbot.mouseClick(window.file_panel.clear_button, Qt.MouseButton.LeftButton)
    assert model.rowCount() == 0
    add(qtbot, window, outside, samples, rows=SAMPLE_ENTRIES)
    run_to_end(qtbot, window, window.action_bar.import_button)
    assert statuses(window) == [Status.DUPLICATE] * SAMPLE_ENTRIES
    for number in range(SAMPLE_ENTRIES):
        status = model.index(number, STATUS)
        assert status.data().startswith("Already on the server (image ")
        assert status.data(Qt.ItemDataRole.BackgroundRole) == COLOURS[Status.DUPLICATE]
    assert len(sandbox.objects("Image")) == uploaded_images

    # the token is held in memory only: the remembered settings never contain it
    settings.qsettings.sync()
    assert token not in Path(settings.qsettings.fileName()).read_text()

    # the next window remembers the group (per server) and the pairs
    again = make_window()
    assert again.pairs_editor.pairs() == [("Sample", "Mouse 7")]
    connect(qtbot, again, token)
    assert again.group_picker.current_group() == core.id
