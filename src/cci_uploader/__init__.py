"""CCI OMERO Uploader: move microscopy data from a microscope PC into OMERO."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cci-omero-uploader")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
