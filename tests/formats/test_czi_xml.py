"""CZI metadata XML parsed with lxml gives what ElementTree gave.

``czi.parse_xml`` uses lxml for speed; ElementTree (the parser it replaced) is
the reference. On the samples and on mutated XML both must give the same
FileMetadata, or both refuse the file.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cci_uploader.formats import FileMetadata, FormatError, czi

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "czi"
CZI_SAMPLES = sorted(SAMPLES.glob("*.czi"))
MUTANTS_PER_SAMPLE = 200
NAME = Path("sample.czi")


def _with_lxml(xml_text: str) -> FileMetadata | None:
    try:
        return czi.metadata_from_xml(czi.parse_xml(xml_text, NAME), NAME)
    except FormatError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return None


def _with_elementtree(xml_text: str) -> FileMetadata | None:
    try:
        return czi.metadata_from_xml(ET.fromstring(xml_text), NAME)
    except (ET.ParseError, FormatError):
        return None


@pytest.fixture(scope="module")
def xml_texts() -> dict[str, str]:
    return {path.name: czi.read_raw_xml(path) for path in CZI_SAMPLES}


@pytest.mark.parametrize("path", CZI_SAMPLES, ids=lambda p: p.name)
def test_samples_agree(path: Path, xml_texts: dict[str, str]) -> None:
    meta = _with_lxml(xml_texts[path.name])
    assert meta is not None
    assert meta == _with_elementtree(xml_texts[path.name])


def _mutate(text: str, rng: random.Random) -> str:
    """Damage ``text`` once, near the metadata the uploader reads half of the time."""
    anchors = [i for i in (text.find("<Information"), text.find("<Scaling")) if i >= 0]
    if anchors and rng.random() < 0.5:
        at = min(len(text) - 1, rng.choice(anchors) + rng.randrange(2000))
    else:
        at = rng.randrange(len(text))
    kind = rng.choice(["char", "char", "delete", "insert", "markup"])
    if kind == "char":
        # Any character pylibCZIrw can decode to: printable ASCII or a non-surrogate.
        char = chr(rng.choice([rng.randrange(32, 127), rng.randrange(0xD800)]))
        return text[:at] + char + text[at + 1 :]
    if kind == "delete":
        return text[:at] + text[at + rng.randint(1, 40) :]
    if kind == "insert":
        junk = "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randint(1, 20)))
        return text[:at] + junk + text[at:]
    markup = rng.choice(
        ["<", ">", "&", "</Value>", "<Value>", "&amp;", "<!-- x -->", "<![CDATA[1]]>"]
    )
    return text[:at] + markup + text[at:]


MUTANTS = [(p, seed) for p in CZI_SAMPLES for seed in range(MUTANTS_PER_SAMPLE)]


@pytest.mark.parametrize(
    ("path", "seed"), MUTANTS, ids=[f"{p.stem[:14]}-{s:03d}" for p, s in MUTANTS]
)
def test_mutated_xml_agrees(path: Path, seed: int, xml_texts: dict[str, str]) -> None:
    text = _mutate(xml_texts[path.name], random.Random(f"{path.name}-{seed}"))
    meta = _with_lxml(text)
    reference = _with_elementtree(text)
    if meta != reference:
        # The one known difference: libxml2 follows XML 1.0 5th edition, which
        # allows letters like U+11AE in element and attribute names; expat
        # follows the 4th. With such letters made ASCII, the two agree.
        assert reference is None
        assert meta == _with_elementtree(re.sub(r"[^\x00-\x7f]", "x", text))


@pytest.mark.parametrize(
    "text",
    ["", "<", "not xml", "<a></b>", "<a>&undefined;</a>", '<?xml version="1.0"?>', "<a/><b/>"],
)
def test_malformed_xml_is_refused(text: str) -> None:
    assert _with_lxml(text) is None
    assert _with_elementtree(text) is None
