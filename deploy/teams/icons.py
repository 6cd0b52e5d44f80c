"""The two icons of the Teams app package, drawn with Pillow (no image files in the repository).

* ``color.png`` – 192×192, the full-colour icon: a white speech bubble on Klartext blue.
* ``outline.png`` – 32×32, the outline icon Teams shows in its app bar: the same bubble in
  white on a transparent background (Teams requires white and transparent only).

Both are drawn four times larger and scaled down, so the edges are smooth; of the outline
icon only the coverage (alpha) is scaled, so every pixel stays white.
``devtools/teams_package.py`` calls :func:`write_icons`.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (29, 78, 216, 255)  # #1D4ED8, as accentColor in deploy/teams/manifest.yml
WHITE = (255, 255, 255, 255)
CLEAR = (255, 255, 255, 0)
COLOR_SIZE = 192
OUTLINE_SIZE = 32
SCALE = 4


def _bubble(draw: ImageDraw.ImageDraw, size: int, *, fill=None, outline=None, width=0) -> None:
    """A speech bubble with its tail at the lower left, in a ``size``×``size`` square."""
    box = (0.16 * size, 0.2 * size, 0.84 * size, 0.66 * size)
    tail = [(0.28 * size, 0.62 * size), (0.24 * size, 0.84 * size), (0.46 * size, 0.64 * size)]
    draw.polygon(tail, fill=fill or outline)
    draw.rounded_rectangle(box, radius=0.12 * size, fill=fill, outline=outline, width=width)


def color_icon() -> Image.Image:
    """The 192×192 colour icon: a white bubble with two lines of text on blue."""
    size = COLOR_SIZE * SCALE
    image = Image.new("RGBA", (size, size), ACCENT)
    draw = ImageDraw.Draw(image)
    _bubble(draw, size, fill=WHITE)
    for top, right in ((0.34, 0.72), (0.47, 0.6)):
        line = (0.28 * size, top * size, right * size, (top + 0.06) * size)
        draw.rounded_rectangle(line, radius=0.03 * size, fill=ACCENT)
    return image.resize((COLOR_SIZE, COLOR_SIZE), Image.LANCZOS)


def outline_icon() -> Image.Image:
    """The 32×32 outline icon: the bubble's outline in white on transparent."""
    size = OUTLINE_SIZE * SCALE
    image = Image.new("RGBA", (size, size), CLEAR)
    draw = ImageDraw.Draw(image)
    _bubble(draw, size, outline=WHITE, width=int(0.09 * size))
    alpha = image.getchannel("A").resize((OUTLINE_SIZE, OUTLINE_SIZE), Image.LANCZOS)
    icon = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), WHITE)
    icon.putalpha(alpha)  # scaled as coverage only: every pixel stays white
    return icon


def write_icons(out_dir: Path) -> dict[str, Path]:
    """Write ``color.png`` and ``outline.png`` into ``out_dir``; their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"color": out_dir / "color.png", "outline": out_dir / "outline.png"}
    color_icon().convert("RGB").save(paths["color"], format="PNG")
    outline_icon().save(paths["outline"], format="PNG")
    return paths
