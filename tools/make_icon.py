"""Draw the app icon, installer/cci-uploader.ico (both exes and the setup use it).

    python tools/make_icon.py [installer/cci-uploader.ico]

A ring (OMERO's "O") with an upward arrow through it (the upload), white on the
facility's teal, at every size Windows asks for (16 to 256 px). The icon is
committed; run this again only to change it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (16, 24, 32, 48, 64, 128, 256)
TEAL = (11, 93, 122, 255)
WHITE = (255, 255, 255, 255)


def draw(size: int = 256) -> Image.Image:
    """The icon at ``size`` pixels, drawn at 4x and scaled down for smooth edges."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 6, fill=TEAL)
    ring = big * 0.16
    pen.ellipse((ring, ring, big - ring, big - ring), outline=WHITE, width=int(big * 0.09))
    # The arrow: a shaft from the lower ring to above the centre, and its head.
    mid, shaft = big / 2, big * 0.055
    pen.rectangle((mid - shaft, big * 0.40, mid + shaft, big * 0.80), fill=WHITE)
    pen.polygon(
        [(mid, big * 0.18), (mid - big * 0.19, big * 0.44), (mid + big * 0.19, big * 0.44)],
        fill=WHITE,
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main(argv: list[str]) -> int:
    default = Path(__file__).resolve().parents[1] / "installer" / "cci-uploader.ico"
    out = Path(argv[0]) if argv else default
    draw(256).save(out, format="ICO", sizes=[(s, s) for s in SIZES])
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
