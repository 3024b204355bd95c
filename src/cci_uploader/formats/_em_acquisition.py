"""High tension, magnification and detector for the acquisition annotation, from EM metadata.

TIA (EMI+SER) and EPU (MRC+XML) keep these in the metadata the readers
already flatten into ``FileMetadata.extra``; this picks them out by key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

# Keys of the flattened metadata, in order of preference.
TIA_KEYS = {
    "High tension": (("ExperimentalDescription.High tension_kV", 1.0),),
    "Magnification": (("AcquireInfo.Magnification", None),),
    "Detector": (("AcquireInfo.CameraNamePath", None),),
}
EPU_KEYS = {
    "High tension": (("microscopeData/gun/AccelerationVoltage", 1e-3),),
    "Magnification": (("microscopeData/optics/TemMagnification/NominalMagnification", None),),
    "Detector": (("microscopeData/acquisition/camera/Name", None),),
}


def _text(value: str, scale: float | None, label: str) -> str | None:
    if scale is None:
        text = value.strip()
        if label == "Magnification" and text.replace(".", "", 1).isdigit():
            return f"{float(text):,.0f}x"
        return text or None
    try:
        number = float(value) * scale
    except ValueError:
        return None
    return f"{number:g} kV"


def pick(
    extra: Mapping[str, str], keys: Mapping[str, tuple[tuple[str, float | None], ...]]
) -> dict[str, str]:
    """Return label to text for the first key of each label that holds a usable value."""
    pairs: dict[str, str] = {}
    for label, candidates in keys.items():
        for key, scale in candidates:
            value = extra.get(key)
            text = _text(value, scale, label) if value is not None else None
            if text:
                pairs[label] = text
                break
    return pairs
