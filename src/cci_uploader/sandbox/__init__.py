"""A protocol-level OMERO stand-in: the training sandbox and the test server."""

from cci_uploader.sandbox.server import DEMO_TOKEN, SandboxServer

__all__ = ["DEMO_TOKEN", "SandboxServer"]
