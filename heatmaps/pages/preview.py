"""The picture a shared link shows when pasted into a chat (``og:image``): a PNG drawn from the stored grid.

Drawn on the server with Pillow from the same reduced window the share page
draws (no browser): the pending-liquidation map on the page's colour scale,
capped at the same 99th percentile, with the close over it, the title and the
price range. One PNG per (link, snapshot version) is cached, so a live link's
picture follows new grids and a frozen link's never changes; the view serving
it checks the link first, so a revoked link's picture is gone at once.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

from heatmaps.charts import COLOUR_SCALE, LINE_COLOUR, TEXT_COLOUR
from heatmaps.models import ShareLink
from heatmaps.pages.charted import shared_view
from heatmaps.viewing.window import HeatmapWindow
from liqsite.formatting import price, utc_ms

WIDTH, HEIGHT = 1200, 630  # the size chat apps and OpenGraph expect for a large preview
BACKGROUND = (15, 17, 23)
PLOT = (24, 104, 1086, 582)  # left, top, right, bottom of the map
CACHE_SECONDS = 24 * 3600
CACHE_VERSION = 1


@dataclass(frozen=True)
class Preview:
    png: bytes
    etag: str  # names the (link, snapshot version) the picture was drawn from


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


PALETTE = np.array([_rgb(c) for c in COLOUR_SCALE], dtype=np.float64)


def colour_cells(values: np.ndarray, scale_max: float) -> np.ndarray:
    """(C, R) USD → (R, C, 3) uint8: the page's colour scale from 0 to ``scale_max``; empty cells are background."""
    level = np.clip(np.nan_to_num(values, nan=0.0) / scale_max if scale_max > 0 else np.zeros_like(values), 0.0, 1.0)
    position = level * (len(PALETTE) - 1)
    low = np.minimum(position.astype(int), len(PALETTE) - 2)
    fraction = (position - low)[..., None]
    rgb = PALETTE[low] * (1 - fraction) + PALETTE[low + 1] * fraction
    rgb[~(values > 0)] = BACKGROUND
    # Rows are prices from low to high; an image's first row is its top.
    return np.ascontiguousarray(rgb.astype(np.uint8).transpose(1, 0, 2)[::-1])


def render_png(window: HeatmapWindow, *, title: str, subtitle: str) -> bytes:
    """The preview of one window as PNG bytes (``WIDTH`` × ``HEIGHT``)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = PLOT
    cells = Image.fromarray(colour_cells(window.pending, window.scale_max), "RGB")
    image.paste(cells.resize((right - left, bottom - top), Image.Resampling.NEAREST), (left, top))
    low, high = float(window.edges[0]), float(window.edges[-1])

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    closes = np.asarray(window.close, dtype=np.float64)
    columns = len(closes)
    points = [
        (left + (i + 0.5) * (right - left) / columns, y_of(value))
        for i, value in enumerate(closes)
        if np.isfinite(value) and low <= value <= high
    ]
    if len(points) > 1:
        draw.line(points, fill=(255, 255, 255), width=2)
    draw.rectangle(PLOT, outline=_rgb(LINE_COLOUR))

    muted = _rgb(TEXT_COLOUR)
    small = ImageFont.load_default(size=18)
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        value = low + fraction * (high - low)
        draw.text((right + 8, y_of(value)), price(value), fill=muted, font=small, anchor="lm")
    big = ImageFont.load_default(size=34)
    draw.text((left, 24), _fit(draw, title, big, WIDTH - left - 160), fill=(230, 232, 238), font=big)
    draw.text((left, 68), subtitle, fill=muted, font=ImageFont.load_default(size=20))
    if columns:
        draw.text((left, bottom + 10), utc_ms(window.times[0]), fill=muted, font=small)
        draw.text((right, bottom + 10), utc_ms(window.end_ms), fill=muted, font=small, anchor="ra")
    draw.text((WIDTH - 24, 24), "liqsite", fill=(245, 197, 66), font=ImageFont.load_default(size=30), anchor="ra")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    """``text`` cut (with an ellipsis) to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def share_preview(link: ShareLink) -> Preview | None:
    """The preview of an active link, drawn once per snapshot version; None when nothing is computed yet.

    Raises ``BadQuery`` when the link's view can no longer be shown.
    """
    view, _ = shared_view(link)
    if view.window is None:
        return None
    # A live link shows the current grid: its version is in the view's cache key. A frozen one never changes.
    version = "frozen" if link.frozen else view.cache_key
    etag = hashlib.sha256(f"{CACHE_VERSION}:{link.pk}:{link.token}:{version}".encode()).hexdigest()[:32]
    key = f"share-preview:{etag}"
    png = cache.get(key)
    if png is None:
        subtitle = "pending liquidations by price over time, a model estimate"
        if link.frozen:
            subtitle += f" · as of {link.created_at:%Y-%m-%d %H:%M} UTC"
        png = render_png(view.window, title=link.title, subtitle=subtitle)
        cache.set(key, png, CACHE_SECONDS)
    return Preview(png=png, etag=etag)
