"""A protocol-level OMERO stand-in: the training sandbox and the test server."""

from cci_uploader.sandbox.server import (
    DEMO_PASSWORD,
    DEMO_TOKEN,
    SERVICE_ACCOUNT,
    SERVICE_PASSWORD,
    SandboxServer,
)
from cci_uploader.sandbox.state import ImportTime

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_TOKEN",
    "SERVICE_ACCOUNT",
    "SERVICE_PASSWORD",
    "ImportTime",
    "SandboxServer",
]
