from __future__ import annotations

from collections.abc import Iterator

import pytest

from cci_uploader import omero as om
from cci_uploader.sandbox import SandboxServer


@pytest.fixture
def conn(sandbox: SandboxServer, token: str) -> Iterator[om.Connection]:
    connection = om.connect(sandbox.address, token)
    yield connection
    connection.close()
