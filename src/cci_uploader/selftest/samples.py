"""Small, valid microscope files written at run time, one per convertible format.

The self-test and ``cci-uploader demo`` need no sample data on disk: each
function here writes the least a format plugin accepts (the same structures the
microscopes' software writes, with a 32 x 24 gradient as pixels) into a folder,
with names from ``stem``, and returns the main file.
"""

from __future__ import annotations

import json
import struct
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

WIDTH, HEIGHT = 32, 24
PIXEL_SIZE_M = 2.5e-9
# 2024-03-01 12:00:00 UTC
ACQUIRED_UNIX = 1709294400
MICROSCOPE = "Self-test scope"


def _gradient(dtype: type[Any]) -> NDArray[Any]:
    rows = np.arange(HEIGHT, dtype=np.int64)[:, None]
    columns = np.arange(WIDTH, dtype=np.int64)[None, :]
    return ((rows * WIDTH + columns) % 251).astype(dtype)


def write_emd(folder: Path, stem: str = "selftest", microscope: str = MICROSCOPE) -> Path:
    """Write a Velox EMD holding one HAADF image."""
    import h5py

    path = folder / f"{stem}.emd"
    metadata = {
        "Instrument": {"InstrumentModel": microscope, "InstrumentId": "1", "Manufacturer": "FEI"},
        "Acquisition": {"AcquisitionStartDatetime": {"DateTime": str(ACQUIRED_UNIX)}},
        "BinaryResult": {
            "PixelSize": {"width": str(PIXEL_SIZE_M), "height": str(PIXEL_SIZE_M)},
            "PixelUnitX": "m",
            "PixelUnitY": "m",
            "Offset": {"x": "0", "y": "0"},
        },
        "Scan": {},
    }
    encoded = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    with h5py.File(path, "w") as f:
        f.create_dataset("Version", data=[json.dumps({"format": "Velox", "version": "11"})])
        image = f.create_group("Data/Image/0123456789abcdef0123456789abcdef")
        # (y, x, frame), one chunk per frame as Velox writes it
        pixels = _gradient(np.uint16)[:, :, None]
        image.create_dataset("Data", data=pixels, chunks=(HEIGHT, WIDTH, 1))
        image.create_dataset("Metadata", data=encoded[:, None])
    return path


def _ser_bytes(pixels: NDArray[np.float32], seconds: int) -> bytes:
    """A version 0x0210 TIA series with one image element and one time tag."""
    dimension = struct.pack("<IddII", 1, 0.0, 1.0, 0, 6) + b"Number" + struct.pack("<I", 0)
    header_end = 30 + len(dimension)
    table = header_end
    element_at = table + 8  # one data offset, one tag offset, 4 bytes each
    element = (
        struct.pack("<ddI", 0.0, PIXEL_SIZE_M, 0)
        + struct.pack("<ddI", 0.0, PIXEL_SIZE_M, 0)
        + struct.pack("<HII", 7, pixels.shape[1], pixels.shape[0])  # 7: float32
        + pixels.astype("<f4").tobytes()
    )
    tag_at = element_at + len(element)
    return b"".join(
        (
            b"II" + struct.pack("<HH", 0x0197, 0x0210),
            struct.pack("<IIII", 0x4122, 0x4152, 1, 1),  # images, time tags, 1 of 1
            struct.pack("<II", table, 1),  # offset table, one dimension
            dimension,
            struct.pack("<II", element_at, tag_at),
            element,
            struct.pack("<HHI", 0x4152, 0, seconds),
        )
    )


def write_emi_ser(folder: Path, stem: str = "selftest", microscope: str = MICROSCOPE) -> Path:
    """Write a TIA pair: ``<stem>.emi`` and ``<stem>_1.ser``."""
    import datetime as dt

    acquired = dt.datetime.fromtimestamp(ACQUIRED_UNIX, dt.UTC)
    info = (
        "<ObjectInfo><ExperimentalDescription><Root><Data><Label>Microscope</Label>"
        f"<Value>Microscope {microscope}</Value><Unit></Unit></Data></Root>"
        "</ExperimentalDescription>"
        f"<AcquireDate>{acquired:%a %b %d %H:%M:%S %Y}</AcquireDate>"
        "<Manufacturer>FEI</Manufacturer></ObjectInfo>"
    )
    emi = folder / f"{stem}.emi"
    # TIA embeds the ObjectInfo XML in a binary container; readers search for it.
    emi.write_bytes(b"\x00" * 16 + info.encode("utf-8") + b"\x00" * 16)
    (folder / f"{stem}_1.ser").write_bytes(
        _ser_bytes(_gradient(np.float32), ACQUIRED_UNIX),
    )
    return emi


_EPU_XML = """<?xml version="1.0" encoding="utf-8"?>
<MicroscopeImage xmlns="http://schemas.datacontract.org/2004/07/Fei.SharedObjects"
 xmlns:a="http://schemas.datacontract.org/2004/07/Fei.Common.Types">
<SpatialScale><pixelSize>
<x><numericValue>{pixel}</numericValue><unit>
<a:_x003C_Symbol_x003E_k__BackingField>m</a:_x003C_Symbol_x003E_k__BackingField></unit></x>
<y><numericValue>{pixel}</numericValue><unit>
<a:_x003C_Symbol_x003E_k__BackingField>m</a:_x003C_Symbol_x003E_k__BackingField></unit></y>
</pixelSize></SpatialScale>
<microscopeData>
<acquisition><acquisitionDateTime>2024-03-01T13:00:00+01:00</acquisitionDateTime></acquisition>
<instrument><InstrumentID>1</InstrumentID><InstrumentModel>{model}</InstrumentModel></instrument>
</microscopeData>
</MicroscopeImage>
"""


def write_mrc_xml(folder: Path, stem: str = "selftest", microscope: str = MICROSCOPE) -> Path:
    """Write an EPU pair: ``<stem>.mrc`` (16-bit) and ``<stem>.xml``."""
    import mrcfile

    path = folder / f"{stem}.mrc"
    with warnings.catch_warnings():
        # mrcfile sets array dtypes in place, which NumPy 2.5 deprecates.
        warnings.filterwarnings("ignore", "Setting the dtype", DeprecationWarning)
        with mrcfile.new(path) as mrc:
            mrc.set_data(_gradient(np.int16))
    xml = _EPU_XML.format(pixel=repr(PIXEL_SIZE_M), model=microscope)
    path.with_suffix(".xml").write_text(xml, encoding="utf-8")
    return path


def write_sem_tif(folder: Path, stem: str = "selftest", microscope: str = MICROSCOPE) -> Path:
    """Write a Zeiss SmartSEM TIFF: 8-bit pixels and the ``CZ_SEM`` tag (34118)."""
    import tifffile

    path = folder / f"{stem}-sem.tif"
    lines = [
        "0",
        "DP_SEM",
        f"Sem = {microscope}",
        "AP_DATE",
        "Date :1 Mar 2024",
        "AP_TIME",
        "Time :12:00:00",
        "AP_IMAGE_PIXEL_SIZE",
        "Image Pixel Size = 2.500 nm",
        "",
    ]
    raw = "\r\n".join(lines).encode("latin-1")
    tifffile.imwrite(
        path,
        _gradient(np.uint8),
        photometric="minisblack",
        metadata=None,
        extratags=[(34118, 2, 0, raw, True)],
    )
    return path


def write_czi(folder: Path, stem: str = "selftest") -> Path:
    """Write a one-plane CZI with Zeiss's own writer (CZI is imported unchanged)."""
    from pylibCZIrw import czi

    path = folder / f"{stem}.czi"
    with czi.create_czi(str(path), exist_ok=True) as document:
        document.write(data=_gradient(np.uint8)[:, :, None])
    return path
