"""Every hostile file of issue 12 ends in one clear line, in a child with a time and memory cap.

Each case is crafted here from the shared samples, put in a folder beside a
good file, and scanned by the real command line in a child process whose
address space is capped (``limited.MEMORY_LIMIT``) and whose run is timed
out (``limited.TIMEOUT_S``). The folder-level test then imports one folder
mixing the good samples with every hostile file into the stand-in.
Time and peak memory are printed for each case (``pytest -s``), never
asserted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cci_uploader.sandbox import SandboxServer
from tests.robustness import hostile
from tests.robustness.limited import run_cli

AGAIN = "it is probably damaged, so copy it again from the microscope PC."
DEEP = f"nested more than 100 levels deep, which no microscope writes; {AGAIN}"

# Crafter name, the file the row is about, and its exact reason.
EXPECTED: dict[str, tuple[str, str]] = {
    "emd_deep_json": ("deep_json.emd", f"deep_json.emd has metadata JSON {DEEP}"),
    "emd_huge_image": (
        "huge_image.emd",
        "huge_image.emd declares 3,200,000,000 bytes but stores only 0; it is damaged or "
        "incomplete, copy it again from the microscope PC.",
    ),
    "emd_huge_metadata": (
        "huge_metadata.emd",
        "huge_metadata.emd has 2,199,023,255,552 bytes of metadata in one image, more than "
        f"the 67,108,864 this tool accepts; {AGAIN}",
    ),
    "sem_ifd_loop": (
        "ifd_loop.tif",
        "ifd_loop.tif is damaged: its list of pages loops back on itself.",
    ),
    "sem_junk_lines": (
        "junk_400000.tif",
        "junk_400000.tif has 135,027 lines of SmartSEM metadata, more than the 20,000 this "
        f"tool accepts; {AGAIN}",
    ),
    "sem_junk_lines_4mb": (
        "junk_4000000.tif",
        "junk_4000000.tif has 4,035,453 bytes of SmartSEM metadata, more than the 1,048,576 "
        f"this tool accepts; {AGAIN}",
    ),
    "sem_many_pages": (
        "many_pages.tif",
        f"many_pages.tif has more than 1,000 pages, the most this tool accepts; {AGAIN}",
    ),
    "sem_deflate_bomb": (
        "deflate_bomb.tif",
        "deflate_bomb.tif is compressed and would unpack to 1,526 MB, more than the 256 MB "
        "this tool unpacks; save it uncompressed (SmartSEM's default) to upload it.",
    ),
    "mrc_many_planes": (
        "many_planes.mrc",
        "many_planes.mrc has 200,000 planes in one image, more than the 10,000 this tool "
        f"accepts; {AGAIN}",
    ),
    "mrc_extended_header": (
        "ext_header.mrc",
        "ext_header.mrc is damaged: its header says 2,147,483,647 bytes of extended header, "
        "but the file holds 2,098,176 bytes. Copy it again from the microscope PC.",
    ),
    "epu_deep_xml": ("deep_xml.mrc", f"deep_xml.xml has metadata XML {DEEP}"),
    "emi_deep_object_info": ("deep_info.emi", f"deep_info.emi has metadata XML {DEEP}"),
    "emi_unclosed_object_infos": (
        "unclosed.emi",
        f"unclosed.emi has 250,001 metadata blocks, more than the 1,000 this tool accepts; {AGAIN}",
    ),
    "ser_huge_description": (
        "huge_description.emi",
        "huge_description_1.ser is damaged or incomplete; copy it again from the microscope PC.",
    ),
    "czi_deep_xml": ("deep_xml.czi", f"deep_xml.czi has metadata XML {DEEP}"),
    "czi_garbage_directory": (
        "garbage_directory.czi",
        "garbage_directory.czi is damaged (a subblock has the unknown pixel type 77); "
        "copy it again from the microscope PC.",
    ),
}

GOOD = ["czi/tiles_z.czi"]


def test_every_crafter_has_an_expected_outcome() -> None:
    assert set(EXPECTED) == set(hostile.CRAFTERS)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_hostile_file_is_refused_quickly_beside_a_good_one(
    case: str, tmp_path: Path, samples: Path
) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    for good in GOOD:
        shutil.copyfile(samples / good, folder / Path(good).name)
    hostile.CRAFTERS[case](folder)
    name, reason = EXPECTED[case]
    outcome = run_cli(["scan", "--json", str(folder)])
    print(f"\n{case}: scan {outcome.seconds:.2f} s, peak {outcome.peak_mib:.0f} MiB")
    assert outcome.code == 0, outcome.stderr
    rows = outcome.by_name()
    assert set(rows) == {name, "tiles_z.czi"}
    assert rows[name]["reason"] == reason
    assert rows["tiles_z.czi"]["reason"] is None


@pytest.mark.timeout(120)
def test_fifo_in_a_folder_is_skipped_and_named_alone_is_refused(
    tmp_path: Path, samples: Path
) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copyfile(samples / "czi/tiles_z.czi", folder / "tiles_z.czi")
    fifo = hostile.fifo_czi(folder)
    outcome = run_cli(["scan", "--json", str(folder)])
    assert outcome.code == 0, outcome.stderr
    assert set(outcome.by_name()) == {"tiles_z.czi"}
    alone = run_cli(["scan", "--json", str(fifo)])
    assert [r["reason"] for r in alone.records if "path" in r] == [
        "pipe.czi is not a regular file (a folder, device or pipe), so it is not uploaded."
    ]


GOOD_MIX = [
    "czi/tiles_z.czi",
    "emd/fei_example_tem_stack.emd",
    "sem_tif/sample6_001.tif",
    "tia/64x64_TEM_images_acquire.emi",
    "tia/64x64_TEM_images_acquire_1.ser",
    "atlas/Atlas_1.mrc",
    "atlas/Atlas_1.xml",
]


@pytest.mark.timeout(600)
def test_folder_mixing_good_and_hostile_files_imports_the_good_ones(
    tmp_path: Path, samples: Path, sandbox: SandboxServer, token: str
) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    for good in GOOD_MIX:
        shutil.copyfile(samples / good, folder / Path(good).name)
    for case, crafter in hostile.CRAFTERS.items():
        sub = folder / case  # each in its own sub-folder: names may repeat across cases
        sub.mkdir()
        crafter(sub)
    hostile.fifo_czi(folder)
    outcome = run_cli(
        [
            "import",
            str(folder),
            "--server",
            sandbox.address,
            "--group",
            "Sandbox Lab",
            "--kv",
            "Sample=Mix",
            "--json",
        ],
        env={"CCI_OMERO_TOKEN": token},
    )
    print(f"\nmixed folder import: {outcome.seconds:.1f} s, peak {outcome.peak_mib:.0f} MiB")
    assert outcome.code == 1, outcome.stderr
    rows = {Path(r["path"]).relative_to(folder).as_posix(): r for r in outcome.records}
    good = {"tiles_z.czi", "fei_example_tem_stack.emd", "sample6_001.tif"}
    good |= {"64x64_TEM_images_acquire.emi", "Atlas_1.mrc"}
    expected = {name: ("uploaded", None) for name in good}
    for case, (name, reason) in EXPECTED.items():
        expected[f"{case}/{name}"] = ("error", reason)
    got = {
        name: (row["status"], None if row["status"] == "uploaded" else row["message"])
        for name, row in rows.items()
    }
    assert got == expected
    assert len(sandbox.objects("Image")) == 5


@pytest.mark.timeout(120)
def test_window_add_folder_lists_every_file_with_hostile_ones_red(
    tmp_path: Path, samples: Path
) -> None:
    from cci_uploader.config import Config
    from cci_uploader.ui.workers.jobs import scan

    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copyfile(samples / "czi/tiles_z.czi", folder / "tiles_z.czi")
    for case in ("emd_deep_json", "emi_deep_object_info", "czi_garbage_directory"):
        hostile.CRAFTERS[case](folder)
    hostile.fifo_czi(folder)
    rows = {entry.path.name: entry.scan.reason for entry, _size in scan([folder], Config())}
    assert rows == {
        "tiles_z.czi": None,
        **{EXPECTED[c][0]: EXPECTED[c][1] for c in ("emd_deep_json", "czi_garbage_directory")},
        "deep_info.emi": EXPECTED["emi_deep_object_info"][1],
    }
