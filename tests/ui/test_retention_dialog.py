"""The 4-week reminder after connecting: grouped old images, Open in OMERO.web, Delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.dialogs.retention import RetentionDialog, remind_if_old_images
from cci_uploader.ui.workers.tasks import ServerTasks
from tests.standin import Clock

WEB = "https://omero.example.org/webclient/"


def _put(conn: om.Connection, folder: Path, name: str, project: str, dataset: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(name.encode() * 500)
    dataset_id = om.get_or_create_dataset(conn, om.get_or_create_project(conn, project), dataset)
    *_, done = om.import_file(conn, [path], dataset_id)
    assert isinstance(done, om.Imported)
    return done.image_ids[0]


@pytest.fixture
def images(conn: om.Connection, clock: Clock, tmp_path: Path) -> dict[str, int]:
    clock.days_ago(35)
    ids = {n: _put(conn, tmp_path, f"{n}.czi", "LSM 980", "2026-01-01") for n in ("a", "b")}
    ids["c"] = _put(conn, tmp_path, "c.czi", "Krios", "2026-01-05")
    clock.days_ago(1)
    ids["new"] = _put(conn, tmp_path, "new.czi", "LSM 980", "2026-02-01")
    clock.days_ago(0)
    return ids


class Outside:
    def __init__(self) -> None:
        self.urls: list[str] = []
        self.asked: list[str] = []
        self.confirm = True
        self.dialogs: list[RetentionDialog] = []

    def ask(self, _parent: object, _title: str, text: str, _action: str) -> bool:
        self.asked.append(text)
        return self.confirm


@pytest.fixture
def outside() -> Outside:
    return Outside()


@pytest.fixture
def shown(
    qtbot: QtBot, conn: om.Connection, images: dict[str, int], outside: Outside
) -> Iterator[RetentionDialog]:
    parent = QWidget()
    qtbot.addWidget(parent)
    tasks = ServerTasks()
    remind_if_old_images(
        parent,
        conn=conn,
        config=Config(web_url=WEB),
        tasks=tasks,
        open_url=outside.urls.append,
        on_shown=outside.dialogs.append,
    )
    qtbot.waitUntil(lambda: bool(outside.dialogs))
    [dialog] = outside.dialogs
    dialog._confirm = outside.ask  # the test answers the confirmation
    yield dialog
    qtbot.waitUntil(lambda: not tasks.busy)


def _tops(dialog: RetentionDialog) -> list[tuple[str, str]]:
    model = dialog.model
    return [(model.item(r, 0).text(), model.item(r, 1).text()) for r in range(model.rowCount())]


def test_reminder_lists_old_images_by_project_and_dataset(shown: RetentionDialog) -> None:
    assert _tops(shown) == [
        ("Sandbox Lab / Krios / 2026-01-05", "1"),
        ("Sandbox Lab / LSM 980 / 2026-01-01", "2"),
    ]
    assert shown.intro.text().startswith("3 of your images on OMERO")
    assert "28 days" in shown.intro.text()


def test_no_reminder_without_old_images(
    qtbot: QtBot, conn: om.Connection, clock: Clock, tmp_path: Path, outside: Outside
) -> None:
    _put(conn, tmp_path, "fresh.czi", "LSM 980", "2026-02-01")
    tasks = ServerTasks()
    parent = QWidget()
    qtbot.addWidget(parent)
    remind_if_old_images(
        parent,
        conn=conn,
        config=Config(),
        tasks=tasks,
        open_url=outside.urls.append,
        on_shown=outside.dialogs.append,
    )
    with qtbot.waitSignal(tasks.busy_changed, timeout=30_000):
        pass
    assert outside.dialogs == []


def test_open_in_omero_web_shows_the_dataset(
    qtbot: QtBot, shown: RetentionDialog, outside: Outside, sandbox: SandboxServer
) -> None:
    top = shown.model.item(1, 0)
    top.setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(shown.open_button, Qt.MouseButton.LeftButton)
    [dataset] = [
        d.getId().getValue()
        for d in sandbox.objects("Dataset")
        if d.getName().getValue() == "2026-01-01"
    ]
    assert outside.urls == [f"{WEB}?show=dataset-{dataset}"]


def test_delete_selected_after_naming_them_deletes_exactly_those(
    qtbot: QtBot,
    shown: RetentionDialog,
    outside: Outside,
    sandbox: SandboxServer,
    images: dict[str, int],
) -> None:
    shown.model.item(1, 0).setCheckState(Qt.CheckState.Checked)  # LSM 980 / 2026-01-01
    assert {i.name for i in shown.checked_images()} == {"a.czi", "b.czi"}
    qtbot.mouseClick(shown.delete_button, Qt.MouseButton.LeftButton)
    [question] = outside.asked
    assert "2 image(s) in 2 fileset(s)" in question
    assert "a.czi, b.czi" in question and "c.czi" not in question
    qtbot.waitUntil(lambda: shown.status_label.text().startswith("Deleted"))
    assert shown.status_label.text() == "Deleted 2 fileset(s) with 2 image(s) from OMERO."
    left = {i.getId().getValue() for i in sandbox.objects("Image")}
    assert left == {images["c"], images["new"]}
    assert _tops(shown) == [("Sandbox Lab / Krios / 2026-01-05", "1")]


def test_cancelled_confirmation_deletes_nothing(
    qtbot: QtBot, shown: RetentionDialog, outside: Outside, sandbox: SandboxServer
) -> None:
    outside.confirm = False
    before = len(sandbox.objects("Image"))
    shown.model.item(0, 0).setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(shown.delete_button, Qt.MouseButton.LeftButton)
    assert len(outside.asked) == 1
    assert shown.status_label.text() == "Nothing was deleted."
    assert len(sandbox.objects("Image")) == before


def test_nothing_ticked_asks_nothing(
    qtbot: QtBot, shown: RetentionDialog, outside: Outside
) -> None:
    qtbot.mouseClick(shown.delete_button, Qt.MouseButton.LeftButton)
    assert outside.asked == []
    assert "Tick" in shown.status_label.text()


def test_one_ticked_image_deletes_only_its_fileset(
    qtbot: QtBot,
    shown: RetentionDialog,
    outside: Outside,
    sandbox: SandboxServer,
    images: dict[str, int],
) -> None:
    top = shown.model.item(1, 0)
    top.child(0, 0).setCheckState(Qt.CheckState.Checked)  # a.czi only
    assert top.checkState() == Qt.CheckState.PartiallyChecked
    qtbot.mouseClick(shown.delete_button, Qt.MouseButton.LeftButton)
    assert "1 image(s) in 1 fileset(s)" in outside.asked[0]
    qtbot.waitUntil(lambda: shown.status_label.text().startswith("Deleted"))
    left = {i.getId().getValue() for i in sandbox.objects("Image")}
    assert left == set(images.values()) - {images["a"]}
