"""The OME-TIFF writer every converting format shares.

Pixels are streamed tile by tile from the source array (see
:mod:`cci_uploader.formats._tiles`), so memory stays bounded whatever the
image size. The OME-XML is built with ome-types; tifffile writes tiled,
deflate-compressed pages with a SubIFD pyramid for large images.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import tifffile
from ome_types import to_xml
from ome_types.model import (
    OME,
    AnnotationRef,
    Channel,
    Color,
    Image,
    Instrument,
    InstrumentRef,
    Map,
    MapAnnotation,
    Microscope,
    Pixels,
    Pixels_DimensionOrder,
    PixelType,
    StructuredAnnotations,
    TiffData,
    UnitsLength,
)

from cci_uploader.formats._tiles import TILE, level_shape, levels, raw_bytes, tiles
from cci_uploader.formats.base import FileMetadata, FormatError
from cci_uploader.namespaces import CLIENT_NS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from numpy.typing import NDArray

# Classic TIFF offsets are 32-bit; many readers break past 2 GiB, so switch
# to BigTIFF well before that, counting raw bytes (deflate rarely grows data).
_BIGTIFF_ABOVE = 2**31 - 2**27
# Encoded tiles tifffile may hold at once while compressing in threads.
_ENCODE_BUFFER = 16 * 2**20

_PIXEL_TYPES = {
    np.dtype(np.int8): PixelType.INT8,
    np.dtype(np.int16): PixelType.INT16,
    np.dtype(np.int32): PixelType.INT32,
    np.dtype(np.uint8): PixelType.UINT8,
    np.dtype(np.uint16): PixelType.UINT16,
    np.dtype(np.uint32): PixelType.UINT32,
    np.dtype(np.float32): PixelType.FLOAT,
    np.dtype(np.float64): PixelType.DOUBLE,
}


# Channel names and colours (RGBA as a signed 32-bit integer, OME's Color) of an RGB image.
_RGB = (("Red", -16776961), ("Green", 16711935), ("Blue", 65535))


@dataclass(frozen=True)
class OmeImage:
    """One image to write: one OME Image with one channel.

    Attributes
    ----------
    name : str
        Image name shown in OMERO, e.g. ``"HAADF"`` or ``"Atlas_1"``.
    data : numpy.ndarray
        Pixels, shaped (Y, X) or (planes, Y, X); planes become Z. May be a
        ``numpy.memmap``: it is read tile by tile, never loaded whole.
    pixel_size_m : tuple of float or None
        Physical pixel size (x, y) in metres.
    rgb : bool
        ``data`` is (3, Y, X): red, green and blue, written as three channels.
    """

    name: str
    data: NDArray[Any]
    pixel_size_m: tuple[float, float] | None
    rgb: bool = False


def _as_planes(data: NDArray[Any]) -> NDArray[Any]:
    """Return ``data`` as a (planes, Y, X) view, without copying."""
    if data.ndim == 2:
        return data[np.newaxis]
    if data.ndim == 3:
        return data
    raise FormatError(
        f"An image with {data.ndim} dimensions cannot be written; only 2-D images and "
        "stacks can be converted."
    )


def _stored_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """Return the native-order dtype pixels are written as."""
    native = dtype.newbyteorder("=")
    if native == np.dtype(np.float16):
        return np.dtype(np.float32)  # OME has no half floats
    if native not in _PIXEL_TYPES:
        raise FormatError(
            f"Pixels of type {dtype} cannot be stored in OME-TIFF, so this image cannot be "
            "converted."
        )
    return native


def _utc(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` in UTC; a naive time is taken as this computer's local time."""
    return moment.astimezone(dt.UTC)


def build_ome(
    images: Sequence[OmeImage],
    *,
    microscope_model: str | None,
    manufacturer: str | None,
    acquired: dt.datetime | None,
    original_metadata: Mapping[str, str],
) -> OME:
    """Return the OME model describing ``images`` as written by :func:`write_ome_tiff`.

    Parameters
    ----------
    images : sequence of OmeImage
        The images, in file order.
    microscope_model, manufacturer : str or None
        Stored in the Instrument's Microscope, referenced by every image.
    acquired : datetime or None
        Acquisition time; written in UTC because Bio-Formats drops offsets.
    original_metadata : mapping of str to str
        Written as one MapAnnotation, referenced by every image.

    Returns
    -------
    OME
        The ome-types model.
    """
    ome = OME(creator="cci-omero-uploader")
    instrument_ref = None
    if microscope_model or manufacturer:
        ome.instruments.append(
            Instrument(
                id="Instrument:0",
                microscope=Microscope(model=microscope_model, manufacturer=manufacturer),
            )
        )
        instrument_ref = InstrumentRef(id="Instrument:0")
    annotation_refs = []
    if original_metadata:
        pairs = [Map.M(k=str(key), value=str(value)) for key, value in original_metadata.items()]
        ome.structured_annotations = StructuredAnnotations(
            map_annotations=[
                MapAnnotation(id="Annotation:0", namespace=CLIENT_NS, value=Map(ms=pairs))
            ]
        )
        annotation_refs.append(AnnotationRef(id="Annotation:0"))
    first_ifd = 0
    for index, image in enumerate(images):
        planes, height, width = _as_planes(image.data).shape
        size_um: tuple[float | None, float | None] = (None, None)
        if image.pixel_size_m is not None:
            size_um = (image.pixel_size_m[0] * 1e6, image.pixel_size_m[1] * 1e6)
        channels = [Channel(id=f"Channel:{index}:0", samples_per_pixel=1)]
        if image.rgb:
            if planes != len(_RGB):
                raise FormatError(f"The colour image {image.name!r} does not have 3 channels.")
            channels = [
                Channel(
                    id=f"Channel:{index}:{c}", name=name, color=Color(colour), samples_per_pixel=1
                )
                for c, (name, colour) in enumerate(_RGB)
            ]
        pixels = Pixels(
            id=f"Pixels:{index}",
            dimension_order=Pixels_DimensionOrder.XYZCT,
            type=_PIXEL_TYPES[_stored_dtype(image.data.dtype)],
            size_x=width,
            size_y=height,
            size_z=1 if image.rgb else planes,
            size_c=len(channels),
            size_t=1,
            big_endian=False,
            channels=channels,
            tiff_data_blocks=[TiffData(ifd=first_ifd, plane_count=planes)],
            physical_size_x=size_um[0],
            physical_size_x_unit=UnitsLength.MICROMETER,
            physical_size_y=size_um[1],
            physical_size_y_unit=UnitsLength.MICROMETER,
        )
        first_ifd += planes
        ome.images.append(
            Image(
                id=f"Image:{index}",
                name=image.name,
                acquisition_date=None if acquired is None else _utc(acquired),
                instrument_ref=instrument_ref,
                annotation_refs=list(annotation_refs),
                pixels=pixels,
            )
        )
    return ome


MAX_NAME_BYTES = 255
"""Longest file name (in UTF-8 bytes) most file systems allow."""


def fit_name(path: Path, suffix: str = ".ome.tif") -> Path:
    """Return ``path`` with its name shortened to :data:`MAX_NAME_BYTES`, keeping ``suffix``.

    A source named with 250 characters gives an output name longer than
    that once ``.ome.tif`` replaces its extension; the stem is cut instead.
    """
    name = path.name
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return path
    keep = suffix if name.endswith(suffix) else ""
    stem = name[: len(name) - len(keep)]
    budget = MAX_NAME_BYTES - len(keep.encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    return path.with_name(stem + keep)


def write_ome_tiff(
    out_path: Path,
    images: Sequence[OmeImage],
    *,
    microscope_model: str | None,
    manufacturer: str | None,
    acquired: dt.datetime | None,
    original_metadata: Mapping[str, str],
) -> Path:
    """Write ``images`` into one OME-TIFF file at ``out_path``.

    The file appears under its final name only once complete: it is written
    to a hidden temporary name in the same folder and renamed at the end.

    Parameters
    ----------
    out_path : Path
        Where the OME-TIFF goes (conventionally ``*.ome.tif``).
    images : sequence of OmeImage
        One OME Image each, in this order.
    microscope_model, manufacturer : str or None
        The instrument, as stored in the source file.
    acquired : datetime or None
        Acquisition time, time-zone aware (a naive value is taken as local).
    original_metadata : mapping of str to str
        The source file's metadata, kept as key-value pairs.

    Returns
    -------
    Path
        ``out_path``, its stem shortened if the name passes 255 bytes.

    Raises
    ------
    FormatError
        If an image has a shape or pixel type OME-TIFF cannot hold.
    """
    if not images:
        raise FormatError(f"Nothing to write into {out_path.name}: the file holds no images.")
    planes = [_as_planes(image.data) for image in images]
    dtypes = [_stored_dtype(data.dtype) for data in planes]
    ome = build_ome(
        images,
        microscope_model=microscope_model,
        manufacturer=manufacturer,
        acquired=acquired,
        original_metadata=original_metadata,
    )
    # OME-TIFF stores the XML as UTF-8 ("µm"); Bio-Formats mangles character references.
    xml = to_xml(ome).encode("utf-8")
    bigtiff = raw_bytes([data.shape for data in planes], dtypes) > _BIGTIFF_ABOVE
    options: dict[str, Any] = {
        "tile": (TILE, TILE),
        "compression": "zlib",
        "photometric": "minisblack",
        "metadata": None,
        "buffersize": _ENCODE_BUFFER,
    }
    out_path = fit_name(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # A short temporary name: the final one may already be near the 255-byte limit.
    partial = out_path.with_name(f".{uuid.uuid4().hex[:8]}.part")
    try:
        with tifffile.TiffWriter(partial, bigtiff=bigtiff, ome=False) as writer:
            for index, (data, dtype) in enumerate(zip(planes, dtypes, strict=True)):
                shape = (data.shape[0], data.shape[1], data.shape[2])
                factors = levels(shape[1], shape[2])
                writer.write(
                    tiles(data, 1, dtype),
                    shape=shape,
                    dtype=dtype,
                    subifds=len(factors),
                    description=xml if index == 0 else None,
                    software="cci-omero-uploader",
                    **options,
                )
                for factor in factors:
                    writer.write(
                        tiles(data, factor, dtype),
                        shape=level_shape(*shape, factor),
                        dtype=dtype,
                        subfiletype=1,
                        # Overviews are for display: the fastest deflate keeps them cheap.
                        compressionargs={"level": 1},
                        **options,
                    )
        partial.replace(out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out_path


def write_converted(
    source: Path,
    out_dir: Path,
    images: Sequence[OmeImage],
    meta: FileMetadata,
    *,
    manufacturer: str | None,
) -> list[Path]:
    """Write a converted file's images into ``out_dir / "<stem>.ome.tif"``.

    The instrument model, acquisition time and original metadata come from
    ``meta``, the source's :class:`~cci_uploader.formats.base.FileMetadata`.

    Returns
    -------
    list of Path
        The one OME-TIFF written (its stem shortened if the name is too long).
    """
    out = write_ome_tiff(
        out_dir / f"{source.stem}.ome.tif",
        images,
        microscope_model=meta.microscope,
        manufacturer=manufacturer,
        acquired=meta.acquired,
        original_metadata=meta.extra,
    )
    return [out]
