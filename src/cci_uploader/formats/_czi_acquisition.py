"""What a CZI says was acquired: objective, detectors, channels (for the acquisition annotation).

ZEN writes the instrument under ``Metadata/Information/Instrument`` and what
the image used under ``Metadata/Information/Image`` (``ObjectiveSettings/
ObjectiveRef`` names the objective; ``Dimensions/Channels`` the channels).
Keys follow the facility's web uploader where it has one ("Objective",
"Immersion", "Lens ID"), so users can filter on the same keys in OMERO.web.
"""

from __future__ import annotations

from typing import Any


def _text(node: Any, path: str) -> str:
    return (node.findtext(path) or "").strip() if node is not None else ""


def _number(text: str) -> str:
    """``1.4000000000000001`` -> ``1.4``: ZEN writes doubles at full precision."""
    try:
        return f"{float(text):.6g}"
    except ValueError:
        return text


def _objective(meta: Any) -> Any:
    objectives = list(meta.findall("Information/Instrument/Objectives/Objective"))
    ref = meta.find("Information/Image/ObjectiveSettings/ObjectiveRef")
    wanted = ref.get("Id") if ref is not None else None
    for objective in objectives:
        if wanted and objective.get("Id") == wanted:
            return objective
    return objectives[0] if objectives else None


def _add(pairs: dict[str, str], key: str, value: str) -> None:
    if value:
        pairs[key] = value


def acquisition_pairs(meta: Any) -> dict[str, str]:
    """Return objective, immersion, detectors and channels as key to text."""
    pairs: dict[str, str] = {}
    objective = _objective(meta)
    if objective is not None:
        name = _text(objective, "Manufacturer/Model") or (objective.get("Name") or "").strip()
        _add(pairs, "Objective", name)
        _add(pairs, "Objective magnification", _number(_text(objective, "NominalMagnification")))
        _add(pairs, "Objective NA", _number(_text(objective, "LensNA")))
        immersion = _text(objective, "Immersion") or _text(
            meta, "Information/Image/ObjectiveSettings/Medium"
        )
        _add(pairs, "Immersion", immersion)
        _add(
            pairs,
            "Lens ID",
            _text(objective, "Manufacturer/LotNumber")
            or _text(objective, "Manufacturer/SerialNumber"),
        )
    detectors = []
    for detector in meta.findall("Information/Instrument/Detectors/Detector"):
        label = (detector.get("Name") or "").strip() or _text(detector, "Manufacturer/Model")
        if label and label not in detectors:
            detectors.append(label)
    _add(pairs, "Detector", ", ".join(detectors))
    for index, channel in enumerate(
        meta.findall("Information/Image/Dimensions/Channels/Channel"), start=1
    ):
        label = (channel.get("Name") or "").strip() or f"Channel {index}"
        parts = [label]
        excitation = _text(channel, "ExcitationWavelength")
        emission = _text(channel, "EmissionWavelength")
        if excitation:
            parts.append(f"excitation {_number(excitation)} nm")
        if emission:
            parts.append(f"emission {_number(emission)} nm")
        pairs[f"Channel {index}"] = ", ".join(parts)
    return pairs
