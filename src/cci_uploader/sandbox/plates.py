"""Which CZI files Bio-Formats reads as a plate, seen in the bytes as they arrive.

Bio-Formats' ``ZeissCZIReader`` (ome/bioformats, ``initFile`` and
``parseObjectives``/sample-holder parsing) fills a Plate into the metadata
store when the file's XML has a sample-holder ``Template`` with
``ShapeRows`` and ``ShapeColumns`` and at least one well position
(``TemplateShapeId`` "row-column", 1-based).  A Celldiscoverer 7 writes
these.  The reader's domains are light microscopy and histology, not HCS,
so the importer accepts a Dataset target (``OMEROWrapper.isSPWReader`` is
false); ``TargetProcessor`` then links every Image to the Dataset, and the
Plate is saved as well, in no Screen (``OMEROMetadataStoreClient.saveToDB``).

The stand-in does not keep CZI bytes; it looks for those elements in the
stream, keeping only a small tail between chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ROWS = re.compile(rb"<ShapeRows>\s*(\d+)\s*</ShapeRows>")
_COLUMNS = re.compile(rb"<ShapeColumns>\s*(\d+)\s*</ShapeColumns>")
_WELL = re.compile(rb"<TemplateShapeId>\s*(\d+)-(\d+)\s*</TemplateShapeId>")
_TAIL = 64


@dataclass
class PlateSniffer:
    """Plate layout found so far in a CZI stream."""

    rows: int = 0
    columns: int = 0
    wells: list[tuple[int, int]] = field(default_factory=list)  # 0-based (row, column)
    _tail: bytes = b""

    def feed(self, data: bytes) -> None:
        window = self._tail + data
        if self.rows == 0 and (m := _ROWS.search(window)):
            self.rows = int(m[1])
        if self.columns == 0 and (m := _COLUMNS.search(window)):
            self.columns = int(m[1])
        for m in _WELL.finditer(window):
            well = (int(m[1]) - 1, int(m[2]) - 1)
            # A match wholly inside the carried tail was seen with the last chunk.
            if m.end() > len(self._tail) and well not in self.wells and min(well) >= 0:
                self.wells.append(well)
        self._tail = window[-_TAIL:]

    @property
    def is_plate(self) -> bool:
        """Whether Bio-Formats would report a Plate (ZeissCZIReader's condition)."""
        return self.rows > 0 and self.columns > 0 and bool(self.wells)
