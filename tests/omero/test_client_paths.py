"""What the client sends as clientPath (ImportContainer.fillData), with Windows paths, on Linux."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cci_uploader import omero as om
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.transfer import client_path
from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.paths import original_file_name


@pytest.mark.parametrize(
    ("path", "sent", "stored"),
    [
        (
            PureWindowsPath(r"C:\Users\anna\run 12\x.czi"),
            "C;/Users/anna/run 12/x.czi",
            "x.czi",
        ),
        # UNC: host and share are components; the empty ones are dropped (FsFile).
        (PureWindowsPath(r"\\server\share\x.emd"), "server/share/x.emd", "x.emd"),
        (
            PureWindowsPath(r"D:\Å\$data\kv: 3\CON"),
            "D;/Å/_$data/kv; 3/CON_",
            "CON_",
        ),
        (PureWindowsPath(r"E:\grids\aux.tif"), "E;/grids/_aux.tif", "_aux.tif"),
        (PureWindowsPath("C:/mixed/slashes/a?.tif"), "C;/mixed/slashes/a%.tif", "a%.tif"),
        (PurePosixPath("/data/run:1/cells*.czi"), "data/run;1/cellsx.czi", "cellsx.czi"),
        # Extended-length forms of what Java's getAbsolutePath gives.
        (PureWindowsPath("\\\\?\\C:\\long\\x.czi"), "C;/long/x.czi", "x.czi"),
        (PureWindowsPath("\\\\?\\UNC\\srv\\share\\x.emd"), "srv/share/x.emd", "x.emd"),
    ],
)
def test_client_path_joins_cleaned_components_with_slash(
    path: PureWindowsPath | PurePosixPath, sent: str, stored: str
) -> None:
    assert client_path(path) == sent
    assert om.stored_name(path) == stored
    # Server rule (FsFile + path rules + createOriginalFile): what it stores is that name.
    assert original_file_name(sent) == stored


_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\"),
    min_size=1,
    max_size=12,
)


@given(parts=st.lists(_NAME, min_size=1, max_size=4))
def test_client_and_server_cleaning_agree(parts: list[str]) -> None:
    # Two implementations written apart from each other (client from the Java
    # importer, stand-in from the server): the stored name is the client's.
    path = PureWindowsPath("C:\\", *parts)
    assert original_file_name(client_path(path)) == om.stored_name(path)


def test_duplicate_check_compares_with_the_stored_name(
    conn: om.Connection, sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Rule: the server stores the cleaned name, so a name that needs cleaning
    # must be compared cleaned, or a second run would upload it again.
    path = tmp_path / "aux.czi"
    path.write_bytes(b"x" * 5000)
    dataset = om.get_or_create_dataset(conn, om.get_or_create_project(conn, "Scope"), "d")
    *_, done = om.import_file(conn, [path], dataset)
    assert isinstance(done, om.Imported)
    [stored] = sandbox.objects("OriginalFile")
    assert stored.getName().getValue() == "_aux.czi"
    found = om.find_duplicate(conn, path, file_sha1(path), path.stat().st_size)
    assert found == list(done.image_ids)
