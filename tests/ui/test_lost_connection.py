"""The server goes away mid-queue: one message, a red indicator, Reconnect, nothing lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QModelIndex
from pytestqt.qtbot import QtBot

from cci_uploader.pipeline import PAUSED_OFFLINE, Status
from cci_uploader.sandbox import SandboxServer
from cci_uploader.ui.main_window import MainWindow
from cci_uploader.ui.models.files import STATUS, STATUS_ROLE
from cci_uploader.ui.session import OFFLINE_STOPPED
from cci_uploader.ui.widgets.connection_bar import ERROR_RED
from tests.netcut import NetCut
from tests.ui.uihelpers import WAIT_MS, Copies, Ready, press, statuses


@pytest.fixture
def net(sandbox: SandboxServer) -> Iterator[NetCut]:
    """A relay in front of the stand-in: ``cut()`` takes the server away."""
    with NetCut(sandbox.port) as relay:
        yield relay


def _cut_after_first(window: MainWindow, net: NetCut) -> Callable[..., None]:
    def cut(top_left: QModelIndex, *_: object) -> None:
        if top_left.row() == 0 and top_left.data(STATUS_ROLE) == Status.UPLOADED:
            net.cut()

    window.model.dataChanged.connect(cut)
    return cut


def _paused(window: MainWindow) -> bool:
    return window.pause_banner.isVisible() and not window.session.running


def test_server_gone_pauses_once_turns_red_and_reconnect_finishes_without_doubles(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    sandbox: SandboxServer,
    net: NetCut,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    window = make_window(server=net.address)
    paths = czi_copies(4)
    ready(window, *paths, rows=4)
    cut = _cut_after_first(window, net)
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(lambda: _paused(window), timeout=WAIT_MS)
    window.model.dataChanged.disconnect(cut)

    # One message, not one red row per file; the indicator is red.
    banner = window.pause_banner
    assert "connection to OMERO was lost" in banner.message.text()
    assert "Reconnect" in banner.message.text()
    assert banner.reconnect_button.isVisible() and banner.reconnect_button.isEnabled()
    bar = window.connection_bar
    assert "lost" in bar.state_label.text() and "Connected" not in bar.state_label.text()
    assert ERROR_RED in bar.state_label.styleSheet()
    assert statuses(window) == [Status.UPLOADED] + [Status.QUEUED] * 3
    assert window.model.rows()[1].message == PAUSED_OFFLINE
    assert window.action_bar.hint.text().startswith("Paused")
    assert not window.action_bar.import_button.isEnabled()
    assert not window.file_panel.clear_button.isEnabled()

    # Still away: Reconnect says so, the queue stays paused, nothing turns red.
    press(qtbot, banner.reconnect_button)
    qtbot.waitUntil(lambda: "Still no answer" in banner.message.text(), timeout=WAIT_MS)
    assert banner.isVisible() and banner.reconnect_button.isEnabled()
    assert Status.ERROR not in statuses(window)

    net.restore()
    press(qtbot, banner.reconnect_button)
    qtbot.waitUntil(lambda: statuses(window) == [Status.UPLOADED] * 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.session.running)
    assert not banner.isVisible()
    assert "Connected as" in bar.state_label.text()
    names = sorted(i.getName().getValue() for i in sandbox.objects("Image"))
    assert names == [p.name for p in paths]
    assert window.status_line.label.text().startswith("Done: 4 uploaded")


def test_connection_cut_mid_file_pauses_and_reconnect_gives_exactly_one_image(
    qtbot: QtBot,
    window: MainWindow,
    sandbox: SandboxServer,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    # 12 MiB of padding: several 4 MiB chunks, so the cut falls mid-file.
    [big] = czi_copies(1, pad=12 * 1024 * 1024)
    ready(window, big, rows=1)
    sandbox.faults.cut_after_bytes = 5 * 1024 * 1024
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(lambda: _paused(window), timeout=WAIT_MS)
    assert statuses(window) == [Status.QUEUED]
    assert "paused" in str(window.model.index(0, STATUS).data())
    assert sandbox.objects("Image") == []
    press(qtbot, window.pause_banner.reconnect_button)
    qtbot.waitUntil(lambda: statuses(window) == [Status.UPLOADED], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.session.running)
    assert len(sandbox.objects("Image")) == 1


def test_stop_while_offline_leaves_the_rest_for_retry_failed(
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    sandbox: SandboxServer,
    token: str,
    net: NetCut,
    ready: Ready,
    czi_copies: Copies,
) -> None:
    window = make_window(server=net.address)
    paths = czi_copies(3)
    ready(window, *paths, rows=3)
    cut = _cut_after_first(window, net)
    press(qtbot, window.action_bar.import_button)
    qtbot.waitUntil(lambda: _paused(window), timeout=WAIT_MS)
    window.model.dataChanged.disconnect(cut)
    press(qtbot, window.pause_banner.stop_button)
    assert not window.pause_banner.isVisible()
    assert statuses(window) == [Status.UPLOADED, Status.ERROR, Status.ERROR]
    assert window.model.rows()[1].message == OFFLINE_STOPPED
    assert "Retry failed" in OFFLINE_STOPPED
    net.restore()
    window.connection_bar.token_edit.setText(token)
    press(qtbot, window.connection_bar.connect_button)
    qtbot.waitUntil(lambda: "Connected as" in window.connection_bar.state_label.text())
    qtbot.waitUntil(lambda: not window.session.tasks.busy)
    press(qtbot, window.action_bar.retry_button)
    qtbot.waitUntil(lambda: statuses(window) == [Status.UPLOADED] * 3, timeout=WAIT_MS)
    # The last row is green a moment before the queue ends; closing the window while
    # it runs would ask "Stop uploading?" and wait for an answer no test gives.
    qtbot.waitUntil(lambda: not window.session.running)
    assert len(sandbox.objects("Image")) == 3
