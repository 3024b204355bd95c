"""Fetch the real sample files that the tests read, for a machine without ../shared/samples.

    python tools/fetch_samples.py [DEST]   (default: ../shared/samples beside the repository)

The workflow's Windows test job runs this: the samples come from public
repositories (some GPL-3.0) and are test data, never part of this repository or
the bundle. Each is fetched at a fixed commit and kept only if its SHA-256 is
the one here (the same files as the developers' shared/samples). The one
synthetic file, the atlas MRC, is generated: same shape, type and pixel size as
the developers' copy, other pixel values.
"""

from __future__ import annotations

import hashlib
import io
import sys
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import quote

import numpy as np

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "samples"
RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
GU, CZILIB, CZITOOLS, RSCIIO = (
    "CCI-GU-Sweden/Omero_GU",
    "AllenCellModeling/aicspylibczi",
    "sebi06/czitools",
    "hyperspy/rosettasciio",
)
RSCIIO_AT = "b008922cdb8a5e0659b82c5ee1a2f87af286a04f"
# destination, repository, commit, path, zip member or None, sha256
SAMPLES = [
    (
        "atlas/Atlas_1.xml",
        GU,
        "3a2c2a74a71d246891e148d3f57dc11c25298958",
        "tests/data/Atlas_1.xml",
        None,
        "cbe9a67a5f123a78ed0c119ab7ed2aecb764967bb161e2d1ae28e0beb341b69a",
    ),
    (
        "czi/CD_s_1_t_3_c_2_z_5.czi",
        CZILIB,
        "3ea93a02f3a30c975a7c1a655e0ebf61107cca0f",
        "c_tests/resources/CD_s_1_t_3_c_2_z_5.czi",
        None,
        "293a1e7287f680be29428ca7818a746887cb818a8247aae477f100ba44de4127",
    ),
    (
        "czi/RGB-8bit.czi",
        CZILIB,
        "2d8992d879aeccaa9d47f2dd00484c2cff3577b2",
        "c_tests/resources/RGB-8bit.czi",
        None,
        "44593e6210f2f9066f8608c53c31806f4d173d1d26bb3bb5c32b182fb0c0a43e",
    ),
    (
        "czi/czitools_LSM880_AiryScan.czi",
        CZITOOLS,
        "d15297e4a5862cfbf5d10a6e6dee89b9506ec039",
        "data/LSM880_AiryScan.czi",
        None,
        "5d1535166cea98027dd39d7100f737a52d6cd14e628c07454155d3573d2a2feb",
    ),
    (
        "czi/czitools_WellD6_S1.czi",
        CZITOOLS,
        "e2b3d2145edc5297c0cfac69dd03f751e48a7f56",
        "data/WellD6_S1.czi",
        None,
        "b4b4ed08e6b0f1f13c572b40de0956fa8c507e5c48853657ca7017470ff1b0a3",
    ),
    (
        "czi/tiles_z.czi",
        CZILIB,
        "7deb8cc71f3a04e274b13154a02cee15e4a60b36",
        "c_tests/resources/tiles_z.czi",
        None,
        "e0faf8937c08298697a16a4f6a0f7ce40251d42d5095631ea21238934e4ea8fa",
    ),
    (
        "emd/Test SI 16x16 215 kx.emd",
        RSCIIO,
        "e5f3dac6dcb5954c50e3aa9d6d4f9efcbc6f008e",
        "rsciio/tests/data/emd/velox_emd_version11.zip",
        "Test SI 16x16 215 kx.emd",
        "511e2983038542776603ca8bfc7ec8fb95994ab3e723cab7095d4f97d0168f58",
    ),
    (
        "emd/fei_example_dpc_titles.emd",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/emd/fei_example_dpc_titles.emd",
        None,
        "c06422c623e7a7b18ed8864c99d34590488b98fef85423ac33e1ea10bef66b2f",
    ),
    (
        "emd/fei_example_tem_stack.emd",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/emd/fei_example_tem_stack.emd",
        None,
        "397d5076b0133db608abd985985fad275bf6594823393f72a069020e47c21a1e",
    ),
    (
        "fibics/fibics_test.tif",
        GU,
        "3ddc8e104ce7e7d12fb6455dd497d0241e7ccdd3",
        "tests/data/fibics_test.tif",
        None,
        "a8c23f199806b7af1ed59ae125d6f9a1cbf9e5717b0dd74a34d46577ced4ce5e",
    ),
    (
        "sem_tif/sample6_001.tif",
        GU,
        "1038efa487db39ab9733aa5e5c718aa1c6661cf6",
        "tests/data/sample6_001.tif",
        None,
        "d255e83775204904cc137f8b2f2b37f89ecb782e60df0982722b48ded8d058b4",
    ),
    (
        "sem_tif/test_tiff_Zeiss_SEM_1k.tif",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/tiff/tiff_Zeiss_SEM.zip",
        "test_tiff_Zeiss_SEM_1k.tif",
        "c6c20b1f01fc33f23c3267941fb86748b3bc9414c38325873d450d8a6d23ece7",
    ),
    (
        "tia/128x128_TEM_acquire-sum1.emi",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/tia/new/128x128_TEM_acquire-sum1.emi",
        None,
        "beff2c0d6e4a5f2d59004925697f9aac3ffbeee82943639fd15ef4f632a82885",
    ),
    (
        "tia/128x128_TEM_acquire-sum1_1.ser",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/tia/new/128x128_TEM_acquire-sum1_1.ser",
        None,
        "44994f43b7ee2363f177bd48afd8da3423f34e8425b3b22366a3f69a9c1649dc",
    ),
    (
        "tia/64x64_TEM_images_acquire.emi",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/tia/old/64x64_TEM_images_acquire.emi",
        None,
        "d820ec205f047ed1db5e3a785e8f532e99ade7b70f65657aa184c6cce59f98eb",
    ),
    (
        "tia/64x64_TEM_images_acquire_1.ser",
        RSCIIO,
        RSCIIO_AT,
        "rsciio/tests/data/tia/old/64x64_TEM_images_acquire_1.ser",
        None,
        "cfb0cb9c6ba5924a8a03db2d35c4864c5d3bb9a28ebe7c8a92710d0d8bcb9a98",
    ),
]
MAX_BYTES = 50 * 1024 * 1024


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        data: bytes = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SystemExit(f"{url} is larger than {MAX_BYTES} bytes; refusing it.")
    return data


def synthetic_atlas(path: Path) -> None:
    """An atlas MRC like the developers' synthetic one: 1024 x 1024 int16, 5152 A pixels."""
    import mrcfile

    rng = np.random.default_rng(1)
    data = rng.integers(2047, 3998, size=(1024, 1024), dtype=np.int16)
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = 5152.0


def main(dest: Path) -> int:
    for name, repo, commit, path, member, sha256 in SAMPLES:
        target = dest / name
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            continue
        data = download(RAW.format(repo=repo, commit=commit, path=quote(path)))
        if member is not None:
            data = zipfile.ZipFile(io.BytesIO(data)).read(member)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise SystemExit(f"{repo}:{path} at {commit} is not the expected {name}; refusing it.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{name}: {len(data)} bytes from {repo}")
    atlas = dest / "atlas" / "Atlas_1.mrc"
    if not atlas.is_file():
        synthetic_atlas(atlas)
        print(f"{atlas.relative_to(dest)}: generated")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
