"""Hostile files, crafted at test time from the shared samples (never stored).

Each crafter writes one file (with its companions) into a folder and returns
the main file. They reproduce the attacks of issue 12: header lies, bombs,
cycles and deep nesting.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

SAMPLES = Path(
    os.environ.get("CCI_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples")
)
CZI = SAMPLES / "czi/tiles_z.czi"
EMD = SAMPLES / "emd/fei_example_tem_stack.emd"
SEM = SAMPLES / "sem_tif/sample6_001.tif"
ATLAS_XML = SAMPLES / "atlas/Atlas_1.xml"
ATLAS = SAMPLES / "atlas/Atlas_1.mrc"
EMI = SAMPLES / "tia/64x64_TEM_images_acquire.emi"
CZ_SEM = 34118


def _nested_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _nested_xml(depth: int, tag: str = "n") -> str:
    return f"<{tag}>" * depth + "x" + f"</{tag}>" * depth


# -- Velox EMD ---------------------------------------------------------------


def _emd_image(f: object) -> object:
    group = f["Data/Image"]  # type: ignore[index]
    return group[next(iter(group))]


def _replace_dataset(group: object, name: str, **kwargs: object) -> None:
    del group[name]  # type: ignore[attr-defined]
    group.create_dataset(name, **kwargs)  # type: ignore[attr-defined]


def emd_deep_json(folder: Path) -> Path:
    """Velox metadata JSON nested 1,200 deep (valid JSON)."""
    import h5py

    path = Path(shutil.copyfile(EMD, folder / "deep_json.emd"))
    with h5py.File(path, "r+") as f:
        image = _emd_image(f)
        metadata = image["Metadata"]  # type: ignore[index]
        value = json.loads(bytes(metadata[:, 0]).rstrip(b"\0"))
        value["Instrument"]["Deep"] = "DEEP"
        text = json.dumps(value).replace('"DEEP"', _nested_json(1200))
        column = np.frombuffer(text.encode(), dtype=np.uint8)
        data = np.zeros((len(column) + 16, metadata.shape[1]), dtype=np.uint8)
        data[: len(column), :] = column[:, None]
        _replace_dataset(image, "Metadata", data=data)
    return path


def emd_huge_image(folder: Path) -> Path:
    """An image dataset declared 40000 x 40000 with no chunk written (3.2 GB of nothing)."""
    import h5py

    path = Path(shutil.copyfile(EMD, folder / "huge_image.emd"))
    with h5py.File(path, "r+") as f:
        image = _emd_image(f)
        metadata = image["Metadata"][:, :1]  # type: ignore[index]
        _replace_dataset(image, "Metadata", data=metadata)
        _replace_dataset(image, "Data", shape=(40000, 40000, 1), dtype="<i2", chunks=(512, 512, 1))
        _replace_dataset(image, "FrameLookupTable", data=np.zeros(1, dtype="<u4"))
    return path


def emd_huge_metadata(folder: Path) -> Path:
    """A metadata dataset of shape (2**40, 2): a terabyte declared, nothing stored."""
    import h5py

    path = Path(shutil.copyfile(EMD, folder / "huge_metadata.emd"))
    with h5py.File(path, "r+") as f:
        image = _emd_image(f)
        _replace_dataset(
            image, "Metadata", shape=(2**40, 2), dtype="u1", chunks=(2**16, 2), maxshape=(None, 2)
        )
    return path


# -- SmartSEM TIFF -------------------------------------------------------------


def _sem_raw() -> bytes:
    import tifffile

    with tifffile.TiffFile(SEM) as tif:
        tag = tif.pages.first.tags[CZ_SEM]
        tif.filehandle.seek(tag.valueoffset)
        return bytes(tif.filehandle.read(tag.count))


def _write_sem(path: Path, pages: Iterator[np.ndarray], raw: bytes, **kwargs: object) -> Path:
    import tifffile

    with tifffile.TiffWriter(path) as writer:
        for index, page in enumerate(pages):
            tags = [(CZ_SEM, 2, 0, raw, True)] if index == 0 else []
            writer.write(page, photometric="minisblack", metadata=None, extratags=tags, **kwargs)
    return path


def sem_ifd_loop(folder: Path) -> Path:
    """A SmartSEM TIFF whose first IFD's "next IFD" points back to itself."""
    path = _write_sem(folder / "ifd_loop.tif", iter([np.zeros((64, 64), np.uint8)]), _sem_raw())
    data = bytearray(path.read_bytes())
    first = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, first)[0]
    struct.pack_into("<I", data, first + 2 + 12 * count, first)
    path.write_bytes(bytes(data))
    return path


def sem_junk_lines(folder: Path, size: int = 400_000) -> Path:
    """Junk lines before SmartSEM's CZ_SEM text (tifffile's parser is quadratic in them)."""
    junk = b"x\r\n" * (size // 3)
    return _write_sem(
        folder / f"junk_{size}.tif", iter([np.zeros((64, 64), np.uint8)]), junk + _sem_raw()
    )


def sem_many_pages(folder: Path, pages: int = 20_000) -> Path:
    """A SmartSEM TIFF with 20,000 one-pixel pages."""
    images = (np.zeros((1, 1), np.uint8) for _ in range(pages))
    return _write_sem(folder / "many_pages.tif", images, _sem_raw())


def sem_deflate_bomb(folder: Path) -> Path:
    """A 1.6 MB SmartSEM TIFF whose deflated tiles unpack to 1.6 GB."""
    import tifffile

    side, tile = 40_000, 512
    encoded = zlib.compress(bytes(tile * tile), 9)
    count = (-(-side // tile)) ** 2
    path = folder / "deflate_bomb.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(
            (encoded for _ in range(count)),
            shape=(side, side),
            dtype=np.uint8,
            tile=(tile, tile),
            compression="zlib",
            photometric="minisblack",
            metadata=None,
            extratags=[(CZ_SEM, 2, 0, _sem_raw(), True)],
        )
    return path


# -- EPU MRC + XML ---------------------------------------------------------------


def _mrc(path: Path, data: np.ndarray) -> Path:
    import mrcfile

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Setting the dtype", DeprecationWarning)
        with mrcfile.new(path, overwrite=True) as mrc:
            mrc.set_data(data)
    return path


def _atlas_xml(path: Path, edit: Callable[[str], str] = lambda t: t) -> None:
    path.write_text(edit(ATLAS_XML.read_text(encoding="utf-8")), encoding="utf-8")


def mrc_many_planes(folder: Path) -> Path:
    """An MRC of 1 x 1 x 200,000 (Z x Y x X: 200,000 one-pixel planes)."""
    path = _mrc(folder / "many_planes.mrc", np.zeros((200_000, 1, 1), np.int8))
    _atlas_xml(path.with_suffix(".xml"))
    return path


def mrc_extended_header(folder: Path) -> Path:
    """An MRC whose extended-header size says 2**31 - 1 bytes (in a 2 MB file)."""
    path = Path(shutil.copyfile(ATLAS, folder / "ext_header.mrc"))
    with path.open("r+b") as fh:
        fh.seek(92)
        fh.write(struct.pack("<i", 2**31 - 1))
    _atlas_xml(path.with_suffix(".xml"))
    return path


def _small_mrc(folder: Path, name: str) -> Path:
    return _mrc(folder / name, np.arange(64 * 64, dtype=np.int16).reshape(64, 64))


def epu_deep_xml(folder: Path) -> Path:
    """An EPU .xml nested 5,000 deep."""
    path = _small_mrc(folder, "deep_xml.mrc")
    _atlas_xml(
        path.with_suffix(".xml"),
        lambda t: t.replace("</MicroscopeImage>", _nested_xml(5000) + "</MicroscopeImage>"),
    )
    return path


def epu_hostile_name(folder: Path) -> Path:
    """An EPU .xml whose InstrumentModel is 8 MB, with control and bidi-override characters."""
    path = _small_mrc(folder, "long_name.mrc")
    name = "Titan\u202e\x07Krios " + "K" * 8_000_000

    def edit(text: str) -> str:
        start = text.index("<InstrumentModel>") + len("<InstrumentModel>")
        end = text.index("</InstrumentModel>")
        return text[:start] + name.replace("\x07", "&#x9;") + text[end:]

    _atlas_xml(path.with_suffix(".xml"), edit)
    return path


# -- TIA EMI + SER ---------------------------------------------------------------


def _emi_copy(folder: Path, stem: str, edit: Callable[[bytes], bytes]) -> Path:
    emi = folder / f"{stem}.emi"
    emi.write_bytes(edit(EMI.read_bytes()))
    shutil.copyfile(EMI.with_name(EMI.stem + "_1.ser"), folder / f"{stem}_1.ser")
    return emi


def emi_deep_object_info(folder: Path) -> Path:
    """An EMI whose ObjectInfo is nested 5,000 deep."""
    deep = _nested_xml(5000).encode()
    return _emi_copy(
        folder, "deep_info", lambda b: b.replace(b"</ObjectInfo>", deep + b"</ObjectInfo>", 1)
    )


def emi_unclosed_object_infos(folder: Path) -> Path:
    """An EMI with 250,000 unclosed ``<ObjectInfo>`` (3 MB)."""
    return _emi_copy(folder, "unclosed", lambda b: b + b"<ObjectInfo>" * 250_000)


def ser_huge_description(folder: Path) -> Path:
    """A SER whose dimension array claims a 2 GB description (rosettasciio would allocate it)."""
    emi = _emi_copy(folder, "huge_description", lambda b: b)
    ser = folder / "huge_description_1.ser"
    data = bytearray(ser.read_bytes())
    header_end = 30 if struct.unpack_from("<H", data, 4)[0] == 0x0210 else 34
    struct.pack_into("<I", data, header_end + 24, 2**31 - 1)
    ser.write_bytes(bytes(data))
    return emi


# -- CZI -----------------------------------------------------------------------------

_METADATA_POSITION = 92
_DIRECTORY_POSITION = 84


def _czi_segment(magic: bytes, payload: bytes) -> bytes:
    return magic.ljust(16, b"\0") + struct.pack("<qq", len(payload), len(payload)) + payload


def czi_deep_xml(folder: Path, depth: int = 200_000) -> Path:
    """A CZI whose metadata XML is nested 200,000 deep (a new segment at the end)."""
    data = bytearray(CZI.read_bytes())
    xml = (
        '<?xml version="1.0"?><ImageDocument><Metadata>'
        + _nested_xml(depth)
        + "</Metadata></ImageDocument>"
    ).encode()
    payload = struct.pack("<ii", len(xml), 0) + bytes(248) + xml
    position = len(data)
    data += _czi_segment(b"ZISRAWMETADATA", payload)
    struct.pack_into("<q", data, _METADATA_POSITION, position)
    path = folder / "deep_xml.czi"
    path.write_bytes(bytes(data))
    return path


def czi_garbage_directory(folder: Path) -> Path:
    """A CZI whose subblock directory entries point outside the file, with unknown pixel types."""
    data = bytearray(CZI.read_bytes())
    directory = struct.unpack_from("<q", data, _DIRECTORY_POSITION)[0]
    count = struct.unpack_from("<i", data, directory + 32)[0]
    at = directory + 32 + 128
    for _ in range(count):
        dims = struct.unpack_from("<i", data, at + 28)[0]
        struct.pack_into("<iq", data, at + 2, 77, len(data) * 16)
        at += 32 + 20 * dims
    path = folder / "garbage_directory.czi"
    path.write_bytes(bytes(data))
    return path


def fifo_czi(folder: Path) -> Path:
    """A FIFO named like a CZI: opening it for reading blocks until a writer comes."""
    path = folder / "pipe.czi"
    os.mkfifo(path)
    return path


CRAFTERS: dict[str, Callable[[Path], Path]] = {
    "emd_deep_json": emd_deep_json,
    "emd_huge_image": emd_huge_image,
    "emd_huge_metadata": emd_huge_metadata,
    "sem_ifd_loop": sem_ifd_loop,
    "sem_junk_lines": sem_junk_lines,
    "sem_junk_lines_4mb": lambda folder: sem_junk_lines(folder, 4_000_000),
    "sem_many_pages": sem_many_pages,
    "sem_deflate_bomb": sem_deflate_bomb,
    "mrc_many_planes": mrc_many_planes,
    "mrc_extended_header": mrc_extended_header,
    "epu_deep_xml": epu_deep_xml,
    "emi_deep_object_info": emi_deep_object_info,
    "emi_unclosed_object_infos": emi_unclosed_object_infos,
    "ser_huge_description": ser_huge_description,
    "czi_deep_xml": czi_deep_xml,
    "czi_garbage_directory": czi_garbage_directory,
}
