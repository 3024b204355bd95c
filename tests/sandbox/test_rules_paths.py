"""Server rules for clientPath and stored names (omero-blitz ``repo/path``), in the stand-in."""

from __future__ import annotations

import omero
import pytest
from omero.gateway import BlitzGateway
from omero.rtypes import rbool, rstring

from cci_uploader.sandbox import SandboxServer
from cci_uploader.sandbox.paths import original_file_name, safe_component, stored_components


@pytest.mark.parametrize(
    ("component", "cleaned"),
    [
        # MakePathComponentSafe: the WINDOWS_REQUIRED + UNIX_REQUIRED transformation matrix.
        ("C:", "C;"),
        ('a"b*c?d<e>f|g', "a'bxc%d[e]f!g"),
        ("back\\slash", "back!slash"),
        ("tab\there\x7f\x85", "tab_here__"),
        # unsafe names get "_" appended, case-insensitively.
        ("CON", "CON_"),
        ("lpt1", "lpt1_"),
        ("CLOCK$", "CLOCK$_"),
        # unsafe prefixes ("NAME." of a reserved name, "$") get "_" prepended.
        ("$MFT", "_$MFT"),
        ("aux.czi", "_aux.czi"),
        ("nul.tar.gz", "_nul.tar.gz"),
        # Names that only look similar are left alone.
        ("COM10", "COM10"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("Å $ cells 1.czi", "Å $ cells 1.czi"),
    ],
)
def test_rule_make_path_component_safe(component: str, cleaned: str) -> None:
    assert safe_component(component) == cleaned


def test_rule_fsfile_splits_on_slash_only_and_drops_empty_components() -> None:
    # FsFile(String).splitComponents: "/" is the only separator.
    assert stored_components("C;/Users/anna//run 12/x.czi") == [
        "C;",
        "Users",
        "anna",
        "run 12",
        "x.czi",
    ]
    assert stored_components("C:\\Users\\anna\\run 12\\x.czi") == ["C;!Users!anna!run 12!x.czi"]


def test_rule_original_file_is_named_after_the_last_cleaned_component() -> None:
    # RepositoryDaoImpl.createOriginalFile.
    assert original_file_name("C;/Users/anna/run 12/x.czi") == "x.czi"
    assert original_file_name("C:\\Users\\anna\\run 12\\x.czi") == "C;!Users!anna!run 12!x.czi"
    assert original_file_name("srv/share/CON") == "CON_"


def _import_fileset(sandbox: SandboxServer, token: str, client_paths: list[str]) -> list[str]:
    """Send a raw importFileset, as a client that does not clean its paths would."""
    gateway = BlitzGateway(host=sandbox.address)
    assert gateway.connect(sUuid=token)
    try:
        fileset = omero.model.FilesetI()
        fileset.linkJob(omero.model.UploadJobI())  # one UploadJob, as importers send
        for path in client_paths:
            entry = omero.model.FilesetEntryI()
            entry.setClientPath(rstring(path))
            fileset.addFilesetEntry(entry)
        settings = omero.grid.ImportSettings()
        settings.doThumbnails = rbool(False)
        algorithm = omero.model.ChecksumAlgorithmI()
        algorithm.setValue(rstring("SHA1-160"))
        settings.checksumAlgorithm = algorithm
        proc = gateway.c.getManagedRepository().importFileset(fileset, settings)
        proc.close()
    finally:
        gateway.close(hard=False)
    return sorted(f.getName().getValue() for f in sandbox.objects("OriginalFile"))


def test_rule_raw_windows_client_path_is_stored_as_one_mangled_name(
    sandbox: SandboxServer, token: str
) -> None:
    # ManagedRepositoryI.internalImport: new FsFile(clientPath), then path rules.
    names = _import_fileset(sandbox, token, ["C:\\Users\\anna\\run 12\\x.czi"])
    assert names == ["C;!Users!anna!run 12!x.czi"]


def test_rule_cleaned_client_path_is_stored_under_its_file_name(
    sandbox: SandboxServer, token: str
) -> None:
    names = _import_fileset(sandbox, token, ["C;/Users/anna/run 12/x.czi", "C;/Users/anna/a:b"])
    assert names == ["a;b", "x.czi"]


def test_rule_import_fileset_needs_a_checksum_algorithm(sandbox: SandboxServer, token: str) -> None:
    # ManagedImportRequestI / RepositoryDaoImpl: a null checksumAlgorithm is refused.
    gateway = BlitzGateway(host=sandbox.address)
    assert gateway.connect(sUuid=token)
    try:
        fileset = omero.model.FilesetI()
        fileset.linkJob(omero.model.UploadJobI())  # one UploadJob, as importers send
        entry = omero.model.FilesetEntryI()
        entry.setClientPath(rstring("x/y.czi"))
        fileset.addFilesetEntry(entry)
        with pytest.raises(omero.ApiUsageException):
            gateway.c.getManagedRepository().importFileset(fileset, omero.grid.ImportSettings())
    finally:
        gateway.close(hard=False)
