"""Each image gets the acquisition metadata as read-only pairs in the app's own namespace."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from cci_uploader import omero as om
from cci_uploader.config import Config
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.acquisition import ACQUISITION_NS
from cci_uploader.pipeline import ImportQueue, Status
from cci_uploader.plan import plan
from cci_uploader.sandbox import SandboxServer
from cci_uploader.scan import scan_paths


def _pairs(sandbox: SandboxServer, image_id: int) -> list[tuple[str, str]]:
    annotations = {a.getId().getValue(): a for a in sandbox.objects("MapAnnotation")}
    found = []
    for link in sandbox.objects("ImageAnnotationLink"):
        annotation = annotations.get(link.getChild().getId().getValue())
        if (
            link.getParent().getId().getValue() == image_id
            and annotation is not None
            and annotation.getNs().getValue() == ACQUISITION_NS
        ):
            found.append([(nv.name, nv.value) for nv in annotation.getMapValue()])
    [pairs] = found  # exactly one acquisition annotation per image
    return pairs


def _import(conn: om.Connection, path: Path) -> list[int]:
    queue = ImportQueue(
        plan(scan_paths([path], Config()), Config(), [("Sample", "S1")]), history=None
    )
    list(queue.run(conn))
    [entry] = queue.states
    assert entry.status is Status.UPLOADED, entry.message
    return list(entry.image_ids)


def test_czi_objective_immersion_channels_and_sha1(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    path = Path(shutil.copy(samples / "czi/czitools_LSM880_AiryScan.czi", tmp_path))
    raw = path.read_bytes().decode("latin-1")
    objective = re.search(r"<Objective Id=\"Objective:0\">.*?</Objective>", raw, re.S)
    assert objective is not None
    model = re.search(r"<Model>([^<]+)</Model>", objective.group(0))
    assert model is not None
    [image] = _import(conn, path)
    pairs = dict(_pairs(sandbox, image))
    assert pairs["Objective"] == model.group(1) == "Plan-Apochromat 63x/1.4 Oil DIC M27"
    assert pairs["Immersion"] == "Oil"
    assert pairs["Objective NA"] == "1.4"  # ZEN wrote 1.4000000000000001
    assert pairs["Objective magnification"] == "63"
    assert pairs["Channel 1"] == "ChA-T1, excitation 633 nm, emission 653.597 nm"
    assert pairs["Instrument (as stored)"] == "LSM 880, AxioObserver"
    assert pairs["Original file"] == path.name
    assert pairs["Original SHA-1"] == f"{file_sha1(path)} ({path.name})"
    assert pairs["Date source"] == "date taken from the document's creation time"
    # Not in the client namespace: OMERO.web shows these read-only.
    assert ACQUISITION_NS != om.CLIENT_NS


def test_emd_high_tension_and_originals(
    conn: om.Connection, sandbox: SandboxServer, samples: Path, tmp_path: Path
) -> None:
    path = Path(shutil.copy(samples / "emd/fei_example_tem_stack.emd", tmp_path))
    [image] = _import(conn, path)
    pairs = dict(_pairs(sandbox, image))
    assert pairs["High tension"] == "300 kV"  # Optics.AccelerationVoltage = 300000 V
    assert pairs["Magnification"] == "1,271,519x"
    assert pairs["Signals"] == "Ceta"
    assert pairs["Acquired"] == "2019-12-05T10:03:44+00:00"
    assert pairs["Original SHA-1"] == f"{file_sha1(path)} ({path.name})"
    assert pairs["Pixel size"].endswith(" µm")


def test_tia_and_epu_high_tension_magnification_detector(samples: Path) -> None:
    from cci_uploader.formats import mrc, tia

    emi = samples / "tia/64x64_TEM_images_acquire.emi"
    raw = emi.read_bytes()
    assert b"High tension</Label><Value>200</Value><Unit>kV</Unit>" in raw
    assert b"<CameraNamePath>WA-Orius</CameraNamePath>" in raw
    assert tia.read_metadata(emi).acquisition == {
        "High tension": "200 kV",
        "Magnification": "19500 X",
        "Detector": "WA-Orius",
    }
    xml = (samples / "atlas/Atlas_1.xml").read_text()
    assert "<AccelerationVoltage>120000<" in xml and "<NominalMagnification>155<" in xml
    assert mrc.read_metadata(samples / "atlas/Atlas_1.mrc").acquisition == {
        "High tension": "120 kV",
        "Magnification": "155x",
        "Detector": "BM-Ceta",
    }
