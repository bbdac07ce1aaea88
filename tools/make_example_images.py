"""Draw the illustrations of the bundled example shop (content/assets/).

The pictures are simple, hand-made-looking illustrations of the fictional Bottega Ceramica Aurora:
product photos (800x800) and blog covers / share image (1200x630, the Open Graph card size). They
are generated rather than photographed so the repository holds no third-party images.

Run it from anywhere with Pillow and NumPy installed (they are not dependencies of storefront):

    python3 -m venv /tmp/imgvenv && /tmp/imgvenv/bin/pip install pillow numpy
    /tmp/imgvenv/bin/python tools/make_example_images.py

The output is deterministic (fixed random seeds), so re-running it only changes files when this
script changes. Each JPEG is kept under 80 KB.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ASSETS = Path(__file__).resolve().parent.parent / "content" / "assets"
S = 2  # drawing is done at S times the final size, then scaled down (anti-aliasing)
MAX_BYTES = 80_000

Color = tuple[int, int, int]
Profile = Sequence[tuple[float, float]]  # (y, radius) pairs, y growing downwards


def rgb(hex_color: str) -> Color:
    h = hex_color.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


# --------------------------------------------------------------------------- backgrounds


def soft_noise(w: int, h: int, rng: np.random.Generator, scale: int, amount: float) -> np.ndarray:
    """Low-frequency noise (values around 0), upscaled from a small random field."""
    small = rng.normal(0.0, 1.0, (max(2, h // scale), max(2, w // scale))).astype(np.float32)
    img = Image.fromarray(((small * 40) + 128).clip(0, 255).astype(np.uint8), "L")
    img = img.resize((w, h), Image.BICUBIC)
    return (np.asarray(img, np.float32) - 128) / 40 * amount


def backdrop(
    w: int,
    h: int,
    wall: tuple[str, str],
    table: tuple[str, str] | None,
    horizon: float,
    seed: int,
    grain: str = "linen",
) -> np.ndarray:
    """A wall gradient and, below ``horizon`` (0..1), a table top with a little texture."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    top, bottom = np.array(rgb(wall[0]), np.float32), np.array(rgb(wall[1]), np.float32)
    arr = np.broadcast_to(top * (1 - ys) + bottom * ys, (h, w, 3)).copy()
    arr += soft_noise(w, h, rng, 24 * S, 3.0)[..., None]
    if table is not None:
        hy = int(h * horizon)
        th = h - hy
        t = np.linspace(0, 1, th, dtype=np.float32)[:, None, None]
        a, b = np.array(rgb(table[0]), np.float32), np.array(rgb(table[1]), np.float32)
        tab = np.broadcast_to(a * (1 - t) + b * t, (th, w, 3)).copy()
        if grain == "wood":
            streaks = rng.normal(0, 1, (max(2, th // (3 * S)), 6)).astype(np.float32)
            img = Image.fromarray(((streaks * 40) + 128).clip(0, 255).astype(np.uint8), "L")
            img = img.resize((w, th), Image.BICUBIC)
            tab += ((np.asarray(img, np.float32) - 128) / 40 * 7)[..., None]
        else:
            tab += soft_noise(w, th, rng, 6 * S, 2.5)[..., None]
        arr[hy:] = tab
        # a soft line where the table meets the wall
        edge = np.exp(-(((np.arange(h, dtype=np.float32) - hy) / (3.0 * S)) ** 2))[:, None, None]
        arr -= edge * 18
    return arr


def to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def vignette(img: Image.Image, strength: float = 0.18) -> Image.Image:
    w, h = img.size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt(((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2)
    factor = 1 - strength * np.clip(d - 0.6, 0, None) ** 1.5
    arr = np.asarray(img, np.float32) * factor[..., None]
    return to_image(arr)


# --------------------------------------------------------------------------- compositing


def composite(img: Image.Image, color_arr: np.ndarray, alpha: np.ndarray) -> None:
    """Blend ``color_arr`` (h, w, 3) over ``img`` with ``alpha`` (h, w) in 0..1, in place."""
    base = np.asarray(img, np.float32)
    out = base * (1 - alpha[..., None]) + color_arr * alpha[..., None]
    img.paste(to_image(out))


def shadow(img: Image.Image, box: tuple[float, float, float, float], darkness: float, blur: float) -> None:
    w, h = img.size
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).ellipse(box, fill=255)
    m = m.filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(m, np.float32) / 255 * darkness
    composite(img, np.zeros((h, w, 3), np.float32) + np.array([40, 28, 20], np.float32), a)


def mask_of(size: tuple[int, int], draw: Callable[[ImageDraw.ImageDraw], None]) -> np.ndarray:
    m = Image.new("L", size, 0)
    draw(ImageDraw.Draw(m))
    return np.asarray(m, np.float32) / 255


def layer(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    lay = Image.new("RGBA", size, (0, 0, 0, 0))
    return lay, ImageDraw.Draw(lay)


def paint_on(img: Image.Image, deco: Image.Image, clip: np.ndarray, light: np.ndarray) -> None:
    """Composite a decoration layer, clipped to ``clip`` and shaded like the surface below."""
    arr = np.asarray(deco, np.float32)
    color = arr[..., :3] * light[..., None]
    alpha = arr[..., 3] / 255 * clip
    composite(img, color, alpha)


# --------------------------------------------------------------------------- objects


def smooth(profile: Profile, steps: int = 16) -> list[tuple[float, float]]:
    """Densify a profile: heights linear, radii along a Catmull-Rom curve (no facets)."""
    pts = list(profile)
    if len(pts) < 3:
        return pts
    out: list[tuple[float, float]] = []
    for i in range(len(pts) - 1):
        r0 = pts[i - 1][1] if i > 0 else pts[i][1]
        r1, r2 = pts[i][1], pts[i + 1][1]
        r3 = pts[i + 2][1] if i + 2 < len(pts) else r2
        y1, y2 = pts[i][0], pts[i + 1][0]
        for k in range(steps):
            t = k / steps
            r = 0.5 * (
                2 * r1
                + (-r0 + r2) * t
                + (2 * r0 - 5 * r1 + 4 * r2 - r3) * t**2
                + (-r0 + 3 * r1 - 3 * r2 + r3) * t**3
            )
            out.append((y1 + (y2 - y1) * t, max(r, 0.0)))
    out.append(pts[-1])
    return out


def vessel(
    img: Image.Image,
    cx: float,
    profile: Profile,
    glaze: str,
    *,
    pool: float = 0.0,
    foot: tuple[float, str] | None = None,
    rim: str | None = None,
    gloss: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """A turned object seen from the side, with cylinder shading.

    Returns (mask, light): the silhouette (0..1) and the light factor, to paint decorations on it.
    ``pool`` darkens the glaze towards the bottom; ``foot`` = (height, colour) leaves the bottom
    band unglazed; ``rim`` lightens the top edge.
    """
    w, h = img.size
    profile = smooth(profile)
    ys = [p[0] for p in profile]
    rs = [p[1] for p in profile]
    poly = [(cx - r, y) for y, r in profile] + [(cx + r, y) for y, r in reversed(profile)]
    mask = mask_of((w, h), lambda d: d.polygon(poly, fill=255))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    radius = np.interp(yy[:, 0], ys, rs)[:, None]
    u = np.clip((xx - cx) / np.maximum(radius, 1), -1, 1)
    nz = np.sqrt(1 - u**2)
    lx, lz = -0.55, 0.83
    diffuse = np.clip(u * lx + nz * lz, 0, 1)
    light = 0.42 + 0.68 * diffuse
    spec = np.clip(u * -0.35 + nz * 0.94, 0, 1) ** 60 * gloss
    t = np.clip((yy - ys[0]) / max(1.0, ys[-1] - ys[0]), 0, 1)
    light = light * (1 - pool * t**1.5)
    base = np.zeros((h, w, 3), np.float32) + np.array(rgb(glaze), np.float32)
    if foot is not None:
        fh, fcol = foot
        band = yy > ys[-1] - fh
        base[band] = np.array(rgb(fcol), np.float32)
        spec = np.where(band, 0, spec)
        light = np.where(band, light / np.maximum(1 - pool * t**1.5, 0.2), light)
    if rim is not None:
        near_top = np.exp(-(((yy - ys[0]) / (5.0 * S)) ** 2))[..., None]
        base = base * (1 - 0.7 * near_top) + np.array(rgb(rim), np.float32) * 0.7 * near_top
    color = base * light[..., None] + spec[..., None] * 255
    composite(img, color, mask)
    return mask, light


def opening(img: Image.Image, cx: float, y: float, r: float, inside: str, lip: str) -> None:
    """The dark ellipse of a vessel mouth seen slightly from above."""
    d = ImageDraw.Draw(img)
    d.ellipse((cx - r, y - r * 0.22, cx + r, y + r * 0.22), fill=rgb(lip))
    r2 = r * 0.9
    d.ellipse((cx - r2, y - r2 * 0.2, cx + r2, y + r2 * 0.2), fill=rgb(inside))


def leaf_points(x: float, y: float, length: float, width: float, angle: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(21):
        t = i / 20
        pts.append((t * length, width * math.sin(math.pi * t) ** 0.8))
    for i in range(20, -1, -1):
        t = i / 20
        pts.append((t * length, -width * math.sin(math.pi * t) ** 0.8))
    ca, sa = math.cos(angle), math.sin(angle)
    return [(x + px * ca - py * sa, y + px * sa + py * ca) for px, py in pts]


def bezier(
    p0: tuple[float, float], c: tuple[float, float], p1: tuple[float, float], n: int = 14
) -> list[tuple[float, float]]:
    return [
        (
            (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t**2 * p1[0],
            (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t**2 * p1[1],
        )
        for t in (i / n for i in range(n + 1))
    ]


def swallow(d: ImageDraw.ImageDraw, cx: float, cy: float, size: float, angle: float, color: Color) -> None:
    """A swallow seen from below: crescent wings, spindle body, long forked tail."""
    shapes: list[list[tuple[float, float]]] = []
    for side in (-1, 1):
        outer = bezier((0.22, 0.04 * side), (0.30, 0.75 * side), (-0.50, 0.98 * side))
        inner = bezier((-0.50, 0.98 * side), (-0.02, 0.48 * side), (-0.12, 0.05 * side))
        shapes.append(outer + inner)
        shapes.append(
            [
                (-0.30, 0.05 * side),
                (-1.02, 0.40 * side),
                (-0.94, 0.36 * side),
                (-0.52, 0.06 * side),
                (-0.40, 0.0),
            ]
        )
    body = [
        (0.62, 0.0),
        (0.5, 0.1),
        (0.2, 0.12),
        (-0.15, 0.09),
        (-0.42, 0.04),
        (-0.45, 0.0),
        (-0.42, -0.04),
        (-0.15, -0.09),
        (0.2, -0.12),
        (0.5, -0.1),
    ]
    shapes.append(body)
    shapes.append([(0.58, 0.05), (0.74, 0.0), (0.58, -0.05)])  # beak
    ca, sa = math.cos(angle), math.sin(angle)
    for shape in shapes:
        d.polygon(
            [(cx + size * (x * ca - y * sa), cy + size * (x * sa + y * ca)) for x, y in shape], fill=color
        )


def lemon(d: ImageDraw.ImageDraw, x: float, y: float, r: float) -> None:
    d.ellipse((x - r, y - r * 0.72, x + r, y + r * 0.72), fill=rgb("#e9b52a"))
    d.polygon(
        [(x + r * 0.9, y - r * 0.15), (x + r * 1.22, y), (x + r * 0.9, y + r * 0.15)], fill=rgb("#e9b52a")
    )
    d.ellipse((x - r * 0.6, y - r * 0.5, x + r * 0.2, y - r * 0.05), fill=rgb("#f6d65a"))
    d.arc((x - r, y - r * 0.72, x + r, y + r * 0.72), 20, 140, fill=rgb("#d7892a"), width=int(3 * S))


def pomegranate(d: ImageDraw.ImageDraw, x: float, y: float, r: float) -> None:
    d.polygon(
        [
            (x - r * 0.3, y - r * 0.85),
            (x - r * 0.38, y - r * 1.25),
            (x - r * 0.12, y - r * 1.02),
            (x, y - r * 1.3),
            (x + r * 0.12, y - r * 1.02),
            (x + r * 0.38, y - r * 1.25),
            (x + r * 0.3, y - r * 0.85),
        ],
        fill=rgb("#b5452a"),
    )
    d.ellipse((x - r, y - r, x + r, y + r), fill=rgb("#c4472c"))
    d.ellipse((x - r * 0.55, y - r * 0.6, x + r * 0.05, y - r * 0.05), fill=rgb("#df7a45"))
    d.arc((x - r, y - r, x + r, y + r), 10, 170, fill=rgb("#6e3320"), width=int(3 * S))


def leaf(
    d: ImageDraw.ImageDraw, x: float, y: float, length: float, angle: float, color: str = "#4f8a3c"
) -> None:
    d.polygon(leaf_points(x, y, length, length * 0.28, angle), fill=rgb(color))
    ex, ey = x + length * 0.85 * math.cos(angle), y + length * 0.85 * math.sin(angle)
    d.line((x, y, ex, ey), fill=rgb("#2f5a2a"), width=int(2 * S))


# --------------------------------------------------------------------------- products (800x800)


def product_canvas(
    wall: tuple[str, str], table: tuple[str, str], seed: int, horizon: float = 0.66, grain: str = "linen"
) -> Image.Image:
    return to_image(backdrop(800 * S, 800 * S, wall, table, horizon, seed, grain))


def mug(img: Image.Image, cx: float, base_y: float, height: float, radius: float, glaze: str) -> None:
    d = ImageDraw.Draw(img)
    top = base_y - height
    # handle first: the body covers its ends
    hx = cx + radius * 0.82
    d.ellipse(
        (hx - radius * 0.05, top + height * 0.18, hx + radius * 0.75, top + height * 0.78),
        outline=rgb(glaze),
        width=int(radius * 0.2),
    )
    d.arc(
        (hx - radius * 0.05, top + height * 0.18, hx + radius * 0.75, top + height * 0.78),
        290,
        60,
        fill=rgb("#6f9fc7"),
        width=int(radius * 0.06),
    )
    prof = [
        (top, radius),
        (top + height * 0.3, radius * 1.02),
        (top + height * 0.8, radius * 0.97),
        (base_y - 8 * S, radius * 0.86),
        (base_y, radius * 0.82),
    ]
    vessel(img, cx, prof, glaze, pool=0.45, foot=(height * 0.09, "#d9c6a8"), rim="#9cc3e0")
    opening(img, cx, top, radius, "#173a66", "#8db7da")


def tazza_mare() -> Image.Image:
    img = product_canvas(("#f3ece1", "#e8dccb"), ("#d9c8ae", "#cbb695"), 1)
    shadow(img, (220 * S, 600 * S, 560 * S, 650 * S), 0.45, 14 * S)
    mug(img, 380 * S, 625 * S, 300 * S, 150 * S, "#2f6ea8")
    return img


def tazza_mare_dettaglio() -> Image.Image:
    """The mug seen from above: the glaze pools darker at the bottom."""
    w = h = 800 * S
    img = to_image(backdrop(w, h, ("#cdb08c", "#b8976f"), None, 1, 2, "wood"))
    arr = backdrop(w, h, ("#c9a57c", "#b48e63"), ("#c9a57c", "#b48e63"), 0.0, 2, "wood")
    img = to_image(arr)
    cx, cy, r = 400 * S, 410 * S, 250 * S
    shadow(img, (cx - r + 30 * S, cy - r + 40 * S, cx + r + 40 * S, cy + r + 50 * S), 0.5, 18 * S)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle(
        (cx + r - 20 * S, cy - 45 * S, cx + r + 120 * S, cy + 45 * S), radius=40 * S, fill=rgb("#2f6ea8")
    )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
    disc = np.clip((1 - dist) * r / 1.5, 0, 1)
    inner = np.clip(1 - dist / 0.88, 0, 1)
    base = np.array(rgb("#5b93c6"), np.float32)
    deep = np.array(rgb("#123a68"), np.float32)
    col = base[None, None, :] * (1 - inner[..., None] ** 0.6) + deep[None, None, :] * inner[..., None] ** 0.6
    ring = np.exp(-(((dist - 0.93) / 0.035) ** 2))
    col = col * (1 - ring[..., None] * 0.5) + np.array(rgb("#b9d5ea"), np.float32) * ring[..., None] * 0.5
    hl = np.exp(-(((xx - (cx - r * 0.35)) ** 2 + (yy - (cy - r * 0.35)) ** 2) / (r * 0.18) ** 2))
    col = col + hl[..., None] * 70
    composite(img, col, disc)
    return img


def piatto_limoni() -> Image.Image:
    w = h = 800 * S
    img = to_image(backdrop(w, h, ("#dfe6e4", "#cfd9d6"), ("#dfe6e4", "#cfd9d6"), 0.0, 3))
    cx, cy, r = 400 * S, 400 * S, 320 * S
    shadow(img, (cx - r + 10 * S, cy - r + 26 * S, cx + r + 22 * S, cy + r + 36 * S), 0.45, 20 * S)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
    disc = np.clip((1 - dist) * r / 1.5, 0, 1)
    col = np.zeros((h, w, 3), np.float32) + np.array(rgb("#f7f2e6"), np.float32)
    # the rim is a shallow slope: lit on the upper left, in shade on the lower right
    slope = np.clip((dist - 0.66) / 0.3, 0, 1) * (1 - np.clip((dist - 0.96) / 0.04, 0, 1))
    dirn = ((xx - cx) * 0.6 + (yy - cy) * 0.8) / np.maximum(dist * r, 1)
    light = 1 + 0.06 * slope * -dirn - 0.05 * np.exp(-(((dist - 0.66) / 0.02) ** 2))
    composite(img, col * light[..., None], disc)
    d = ImageDraw.Draw(img)
    for rr, width, color in ((0.955, 10, "#2d5f9a"), (0.88, 4, "#e0a43a"), (0.66, 3, "#2d5f9a")):
        d.ellipse((cx - r * rr, cy - r * rr, cx + r * rr, cy + r * rr), outline=rgb(color), width=width * S)
    # the branch
    d.line(
        [
            (cx - 170 * S, cy + 120 * S),
            (cx - 40 * S, cy + 20 * S),
            (cx + 120 * S, cy - 60 * S),
            (cx + 170 * S, cy - 120 * S),
        ],
        fill=rgb("#6b4a2b"),
        width=7 * S,
        joint="curve",
    )
    leaf(d, cx - 110 * S, cy + 72 * S, 110 * S, -2.3)
    leaf(d, cx + 60 * S, cy - 30 * S, 120 * S, -1.2, "#5f9a45")
    leaf(d, cx + 150 * S, cy - 100 * S, 95 * S, -0.3)
    leaf(d, cx - 20 * S, cy + 15 * S, 100 * S, 0.9, "#5f9a45")
    lemon(d, cx - 60 * S, cy + 100 * S, 62 * S)
    lemon(d, cx + 85 * S, cy + 40 * S, 56 * S)
    lemon(d, cx + 10 * S, cy - 90 * S, 52 * S)
    return img


def insalatiera_salvia() -> Image.Image:
    img = product_canvas(("#f1eee6", "#e4ded2"), ("#c7b79d", "#b8a586"), 4, 0.62, "wood")
    cx = 400 * S
    shadow(img, (120 * S, 560 * S, 690 * S, 630 * S), 0.45, 16 * S)
    prof = [
        (400 * S, 290 * S),
        (430 * S, 286 * S),
        (480 * S, 262 * S),
        (540 * S, 215 * S),
        (575 * S, 165 * S),
        (590 * S, 120 * S),
        (598 * S, 110 * S),
    ]
    vessel(img, cx, prof, "#8fa58a", pool=0.25, foot=(12 * S, "#d4b896"), rim="#c9d3c0", gloss=0.25)
    opening(img, cx, 400 * S, 290 * S, "#6f8a6c", "#c5d0bd")
    d = ImageDraw.Draw(img)
    # a few lemons and a pear in the bowl
    for x, y, r in ((330, 385, 42), (430, 378, 46)):
        lemon(d, x * S, y * S, r * S)
    d.ellipse((375 * S, 355 * S, 420 * S, 395 * S), fill=rgb("#9bb04a"))
    return img


def brocca_aurora() -> Image.Image:
    img = product_canvas(("#eef0f2", "#dfe3e6"), ("#d8cdbd", "#c9bba6"), 5)
    cx = 390 * S
    shadow(img, (230 * S, 625 * S, 560 * S, 675 * S), 0.45, 14 * S)
    d = ImageDraw.Draw(img)
    d.arc((440 * S, 250 * S, 600 * S, 520 * S), 250, 100, fill=rgb("#d99a86"), width=30 * S)
    prof = [
        (180 * S, 82 * S),
        (215 * S, 76 * S),
        (265 * S, 90 * S),
        (340 * S, 150 * S),
        (430 * S, 170 * S),
        (520 * S, 150 * S),
        (600 * S, 110 * S),
        (640 * S, 100 * S),
    ]
    # spout
    d.polygon([(cx - 70 * S, 185 * S), (cx - 140 * S, 160 * S), (cx - 76 * S, 230 * S)], fill=rgb("#eab6a2"))
    vessel(img, cx, prof, "#f0b7a3", pool=0.3, foot=(14 * S, "#dcc6a8"), rim="#f6d5c6")
    opening(img, cx, 180 * S, 82 * S, "#a66a5a", "#f7d3c3")
    return img


def vase_profile(top: float, h: float, r: float) -> list[tuple[float, float]]:
    """A classic baluster vase: lip, neck, full shoulder, narrowing foot."""
    return [
        (top, r * 0.55),
        (top + h * 0.05, r * 0.5),
        (top + h * 0.16, r * 0.42),
        (top + h * 0.3, r * 0.72),
        (top + h * 0.48, r * 1.0),
        (top + h * 0.66, r * 0.92),
        (top + h * 0.84, r * 0.62),
        (top + h * 0.95, r * 0.5),
        (top + h, r * 0.52),
    ]


def vaso_melagrana(back: bool = False) -> Image.Image:
    if back:
        img = product_canvas(("#e9e2d4", "#ddd2bf"), ("#b98f6a", "#a67d59"), 7, 0.7, "wood")
    else:
        img = product_canvas(("#e3e9ee", "#d2dbe2"), ("#cbb89b", "#bda98a"), 6, 0.7)
    cx, top, hgt, r = 400 * S, 120 * S, 560 * S, 200 * S
    shadow(img, (cx - 150 * S, top + hgt - 25 * S, cx + 190 * S, top + hgt + 30 * S), 0.45, 14 * S)
    prof = vase_profile(top, hgt, r)
    mask, light = vessel(img, cx, prof, "#f6f0e2", pool=0.1, rim="#ffffff", gloss=0.6)
    lay, d = layer(img.size)
    for y, wdt, col in (
        (top + hgt * 0.08, 10, "#2d5f9a"),
        (top + hgt * 0.2, 6, "#e0a43a"),
        (top + hgt * 0.8, 6, "#e0a43a"),
        (top + hgt * 0.88, 12, "#2d5f9a"),
    ):
        d.rectangle((0, y, img.size[0], y + wdt * S), fill=(*rgb(col), 255))
    mid = top + hgt * 0.5
    if back:
        for i in range(5):
            x = cx - 150 * S + i * 75 * S
            leaf(d, x, mid + 30 * S * (i % 2), 90 * S, -1.2 + 0.6 * (i % 3), "#4f8a3c")
        d.ellipse((cx - 25 * S, mid - 80 * S, cx + 25 * S, mid - 30 * S), fill=rgb("#2d5f9a"))
    else:
        leaf(d, cx - 120 * S, mid + 40 * S, 110 * S, -0.5)
        leaf(d, cx + 20 * S, mid + 70 * S, 120 * S, -0.2, "#5f9a45")
        leaf(d, cx + 60 * S, mid - 10 * S, 100 * S, -2.6)
        pomegranate(d, cx - 95 * S, mid - 20 * S, 58 * S)
        pomegranate(d, cx + 70 * S, mid + 30 * S, 64 * S)
    paint_on(img, lay, mask, light)
    return img


def vaso_notturno() -> Image.Image:
    img = product_canvas(("#ece7df", "#ddd5c9"), ("#8d735c", "#7a6250"), 8, 0.7, "wood")
    cx, top = 400 * S, 200 * S
    shadow(img, (240 * S, 640 * S, 590 * S, 690 * S), 0.5, 14 * S)
    prof = [
        (top, 34 * S),
        (top + 20 * S, 28 * S),
        (top + 90 * S, 36 * S),
        (top + 170 * S, 130 * S),
        (top + 270 * S, 175 * S),
        (top + 360 * S, 150 * S),
        (top + 430 * S, 95 * S),
        (top + 460 * S, 85 * S),
    ]
    mask, light = vessel(
        img, cx, prof, "#1d2c55", pool=0.2, foot=(16 * S, "#b69b7d"), rim="#5d7fb3", gloss=0.8
    )
    lay, d = layer(img.size)
    for k in range(5):
        y0 = top + 150 * S + k * 40 * S
        pts = [(x, y0 + 14 * S * math.sin(x / (36 * S) + k * 1.3)) for x in range(0, img.size[0], 8)]
        d.line(pts, fill=(*rgb("#8fb0d8"), 150 - k * 18), width=(6 - k) * S)
    lay = lay.filter(ImageFilter.GaussianBlur(2 * S))
    paint_on(img, lay, mask, light)
    opening(img, cx, top, 34 * S, "#0b1226", "#5d7fb3")
    return img


def formella_rondine() -> Image.Image:
    w = h = 800 * S
    img = to_image(backdrop(w, h, ("#e8ddcb", "#ddcfb8"), None, 1, 9))
    x0, y0, x1, y1 = 150 * S, 150 * S, 650 * S, 650 * S
    shadow(img, (x0 + 20 * S, y0 + 30 * S, x1 + 30 * S, y1 + 40 * S), 0.0, 1)
    sh = Image.new("L", img.size, 0)
    ImageDraw.Draw(sh).rectangle((x0 + 14 * S, y0 + 22 * S, x1 + 14 * S, y1 + 22 * S), fill=255)
    sh = sh.filter(ImageFilter.GaussianBlur(14 * S))
    composite(img, np.zeros((h, w, 3), np.float32) + 60, np.asarray(sh, np.float32) / 255 * 0.45)
    d = ImageDraw.Draw(img)
    d.rectangle((x0, y0, x1, y1), fill=rgb("#f7f1e3"))
    d.rectangle((x0 + 18 * S, y0 + 18 * S, x1 - 18 * S, y1 - 18 * S), outline=rgb("#e0a43a"), width=20 * S)
    d.rectangle((x0 + 44 * S, y0 + 44 * S, x1 - 44 * S, y1 - 44 * S), outline=rgb("#d1652f"), width=6 * S)
    for cx, cy in (
        (x0 + 28 * S, y0 + 28 * S),
        (x1 - 28 * S, y0 + 28 * S),
        (x0 + 28 * S, y1 - 28 * S),
        (x1 - 28 * S, y1 - 28 * S),
    ):
        d.ellipse((cx - 16 * S, cy - 16 * S, cx + 16 * S, cy + 16 * S), fill=rgb("#2d5f9a"))
    swallow(d, 400 * S, 400 * S, 200 * S, -0.35, rgb("#23518c"))
    d.polygon(leaf_points(250 * S, 560 * S, 70 * S, 18 * S, -0.4), fill=rgb("#5f9a45"))
    d.polygon(leaf_points(560 * S, 230 * S, 60 * S, 16 * S, 2.8), fill=rgb("#5f9a45"))
    # glaze sheen over the tile
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    inside = ((xx > x0) & (xx < x1) & (yy > y0) & (yy < y1)).astype(np.float32)
    sheen = np.exp(-((((xx - yy) - (-120 * S)) / (120 * S)) ** 2)) * 0.18 * inside
    composite(img, np.zeros((h, w, 3), np.float32) + 255, sheen)
    return img


def angioletti() -> Image.Image:
    img = product_canvas(("#2f4a3c", "#253c31"), ("#7b5b41", "#6a4d36"), 10, 0.7, "wood")
    d = ImageDraw.Draw(img)
    for cx, scale in ((280, 1.0), (520, 0.86)):
        cx *= S
        base = 600 * S
        k = scale * S
        shadow(img, (cx - 110 * k, base - 20 * k, cx + 110 * k, base + 20 * k), 0.5, 10 * S)
        d = ImageDraw.Draw(img)
        # wings with a gold edge
        for side in (-1, 1):
            wing = [
                (cx, base - 250 * k),
                (cx + side * 150 * k, base - 330 * k),
                (cx + side * 170 * k, base - 250 * k),
                (cx + side * 110 * k, base - 180 * k),
                (cx, base - 190 * k),
            ]
            d.polygon(wing, fill=rgb("#efe8d8"), outline=rgb("#d4a537"))
            d.line([*wing, wing[0]], fill=rgb("#d4a537"), width=int(5 * k))
        d.polygon(
            [
                (cx - 40 * k, base - 280 * k),
                (cx + 40 * k, base - 280 * k),
                (cx + 105 * k, base),
                (cx - 105 * k, base),
            ],
            fill=rgb("#f6f1e6"),
        )
        d.polygon(
            [
                (cx - 12 * k, base - 270 * k),
                (cx + 12 * k, base - 270 * k),
                (cx + 30 * k, base),
                (cx - 30 * k, base),
            ],
            fill=rgb("#e6ddca"),
        )
        d.ellipse((cx - 48 * k, base - 370 * k, cx + 48 * k, base - 274 * k), fill=rgb("#f8f3ea"))
        d.ellipse(
            (cx - 70 * k, base - 400 * k, cx + 70 * k, base - 370 * k),
            outline=rgb("#d4a537"),
            width=int(6 * k),
        )
    # a few warm lights in the dark background
    lights = Image.new("L", img.size, 0)
    ld = ImageDraw.Draw(lights)
    for x, y, r in ((90, 120, 22), (700, 90, 28), (640, 260, 16), (150, 330, 14), (420, 60, 18)):
        ld.ellipse(((x - r) * S, (y - r) * S, (x + r) * S, (y + r) * S), fill=255)
    lights = lights.filter(ImageFilter.GaussianBlur(10 * S))
    composite(
        img,
        np.zeros((*img.size[::-1], 3), np.float32) + np.array([255, 214, 140], np.float32),
        np.asarray(lights, np.float32) / 255 * 0.6,
    )
    return img


def lampada_lucciola() -> Image.Image:
    img = product_canvas(("#2b2a33", "#1f1e26"), ("#4a3b31", "#3b2f27"), 11, 0.72, "wood")
    cx, top = 400 * S, 210 * S
    glow = Image.new("L", img.size, 0)
    ImageDraw.Draw(glow).ellipse((120 * S, 120 * S, 680 * S, 700 * S), fill=255)
    glow = glow.filter(ImageFilter.GaussianBlur(90 * S))
    composite(
        img,
        np.zeros((*img.size[::-1], 3), np.float32) + np.array([255, 190, 110], np.float32),
        np.asarray(glow, np.float32) / 255 * 0.35,
    )
    prof = [
        (top, 60 * S),
        (top + 40 * S, 110 * S),
        (top + 200 * S, 160 * S),
        (top + 360 * S, 150 * S),
        (top + 400 * S, 120 * S),
    ]
    mask, light = vessel(img, cx, prof, "#efe9dd", pool=0.1, gloss=0.3)
    lay, d = layer(img.size)
    rng = np.random.default_rng(11)
    for _ in range(160):
        y = top + 30 * S + rng.random() * 350 * S
        x = cx + (rng.random() * 2 - 1) * 140 * S
        r = (3 + rng.random() * 3) * S
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 200, 90, 255))
    paint_on(img, lay, mask, np.ones_like(light) * 1.0)
    opening(img, cx, top, 60 * S, "#ffd27a", "#efe9dd")
    return img


# --------------------------------------------------------------------------- blog covers (1200x630)


W, H = 1200 * S, 630 * S


def cover_forno() -> Image.Image:
    img = to_image(backdrop(W, H, ("#e9dccb", "#d9c7b0"), ("#9b8067", "#8a705a"), 0.86, 20))
    shadow(img, (250 * S, 520 * S, 880 * S, 580 * S), 0.5, 16 * S)
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = 300 * S, 90 * S, 820 * S, 545 * S
    d.rounded_rectangle((x0, y0, x1, y1), radius=18 * S, fill=rgb("#7b8186"))
    d.rounded_rectangle(
        (x0 + 12 * S, y0 + 12 * S, x1 - 12 * S, y1 - 12 * S), radius=12 * S, fill=rgb("#8c9297")
    )
    # open door with the glowing chamber
    cx0, cy0, cx1, cy1 = x0 + 50 * S, y0 + 60 * S, x1 - 150 * S, y1 - 50 * S
    d.rectangle((cx0, cy0, cx1, cy1), fill=rgb("#3a2a22"))
    glow = Image.new("L", img.size, 0)
    ImageDraw.Draw(glow).rectangle((cx0 + 20 * S, cy0 + 20 * S, cx1 - 20 * S, cy1 - 20 * S), fill=255)
    glow = glow.filter(ImageFilter.GaussianBlur(28 * S))
    composite(
        img,
        np.zeros((H, W, 3), np.float32) + np.array([255, 150, 60], np.float32),
        np.asarray(glow, np.float32) / 255 * 0.85,
    )
    d = ImageDraw.Draw(img)
    for k, sy in enumerate((cy0 + 150 * S, cy1 - 16 * S)):
        d.rectangle((cx0 + 10 * S, sy, cx1 - 10 * S, sy + 10 * S), fill=rgb("#c9b79f"))
        for i in range(4):
            px = cx0 + 55 * S + i * 70 * S + (k * 14 * S)
            hgt = (70 + (i * 23 + k * 17) % 40) * S
            rr = (24 + (i * 7) % 12) * S
            d.rounded_rectangle((px - rr, sy - hgt, px + rr, sy), radius=8 * S, fill=rgb("#e8b27a"))
    # controller
    d.rounded_rectangle(
        (x1 - 120 * S, y0 + 70 * S, x1 - 40 * S, y0 + 190 * S), radius=8 * S, fill=rgb("#2d3034")
    )
    d.rectangle((x1 - 108 * S, y0 + 84 * S, x1 - 52 * S, y0 + 112 * S), fill=rgb("#e2452f"))
    for i in range(3):
        d.ellipse(
            (x1 - 106 * S + i * 20 * S, y0 + 140 * S, x1 - 94 * S + i * 20 * S, y0 + 152 * S),
            fill=rgb("#aeb4b9"),
        )
    # the door, swung open on the right
    d.polygon(
        [
            (x1 - 12 * S, y0 + 40 * S),
            (x1 + 170 * S, y0 + 10 * S),
            (x1 + 170 * S, y1 + 10 * S),
            (x1 - 12 * S, y1 - 30 * S),
        ],
        fill=rgb("#6f757a"),
    )
    d.polygon(
        [
            (x1 + 10 * S, y0 + 60 * S),
            (x1 + 150 * S, y0 + 40 * S),
            (x1 + 150 * S, y1 - 20 * S),
            (x1 + 10 * S, y1 - 50 * S),
        ],
        fill=rgb("#d8cfc2"),
    )
    return vignette(img)


def cover_tornio() -> Image.Image:
    img = to_image(backdrop(W, H, ("#efe6d8", "#e2d4c0"), ("#a58462", "#8f7052"), 0.8, 21, "wood"))
    clays = ("#b7a896", "#c2b4a2", "#ad9f8d")

    def board(y: float) -> None:
        shadow(img, (40 * S, y + 5 * S, 1160 * S, y + 45 * S), 0.4, 12 * S)
        d = ImageDraw.Draw(img)
        d.rectangle((40 * S, y - 6 * S, 1160 * S, y + 22 * S), fill=rgb("#c49a6c"))
        d.rectangle((40 * S, y + 14 * S, 1160 * S, y + 22 * S), fill=rgb("#a37b52"))

    # upper shelf: bowls drying upside down
    upper = 215 * S
    board(upper)
    for i in range(6):
        cx = (140 + i * 185) * S
        r = (70 + (i * 9) % 16) * S
        top = upper - 6 * S - 70 * S
        prof = [(top, r * 0.35), (top + 10 * S, r * 0.7), (top + 40 * S, r * 0.95), (upper - 6 * S, r)]
        vessel(img, cx, prof, clays[(i + 1) % 3], pool=0.0, gloss=0.0)
    # lower board: a row of freshly thrown cups
    lower = 520 * S
    board(lower)
    for i in range(7):
        cx = (135 + i * 155) * S
        r = (56 + (i * 5) % 12) * S
        hgt = (165 + (i * 17) % 35) * S
        top = lower - 6 * S - hgt
        prof = [(top, r), (top + hgt * 0.5, r * 1.05), (top + hgt * 0.9, r * 0.9), (lower - 6 * S, r * 0.82)]
        vessel(img, cx, prof, clays[i % 3], pool=0.1, gloss=0.0)
        opening(img, cx, top, r, "#8a7c6b", "#cfc2b1")
    return vignette(img)


def cover_maiolica() -> Image.Image:
    img = to_image(backdrop(W, H, ("#f4eddc", "#efe5d0"), None, 1, 22))
    d = ImageDraw.Draw(img)
    size = 210 * S
    blue, yellow, orange, green = rgb("#2d5f9a"), rgb("#e0a43a"), rgb("#d1652f"), rgb("#4f8a3c")
    for row in range(0, 4):
        for col in range(-1, 7):
            x = col * size + (40 * S if row % 2 else 0) - 30 * S
            y = row * size - 20 * S
            cx, cy = x + size / 2, y + size / 2
            d.rectangle((x, y, x + size, y + size), outline=rgb("#d8ccb4"), width=2 * S)
            kind = (row * 3 + col) % 3
            if kind == 0:
                for a in range(8):
                    ang = a * math.pi / 4
                    d.polygon(leaf_points(cx, cy, size * 0.42, size * 0.1, ang), fill=blue)
                d.ellipse((cx - 14 * S, cy - 14 * S, cx + 14 * S, cy + 14 * S), fill=yellow)
            elif kind == 1:
                d.ellipse(
                    (cx - size * 0.36, cy - size * 0.36, cx + size * 0.36, cy + size * 0.36),
                    outline=blue,
                    width=8 * S,
                )
                d.ellipse((cx - size * 0.2, cy - size * 0.2, cx + size * 0.2, cy + size * 0.2), fill=orange)
                for a in range(4):
                    ang = a * math.pi / 2 + math.pi / 4
                    d.polygon(
                        leaf_points(
                            cx + math.cos(ang) * size * 0.38,
                            cy + math.sin(ang) * size * 0.38,
                            size * 0.16,
                            size * 0.06,
                            ang,
                        ),
                        fill=green,
                    )
            else:
                for corner in ((x, y), (x + size, y), (x, y + size), (x + size, y + size)):
                    r = size * 0.3
                    d.pieslice(
                        (corner[0] - r, corner[1] - r, corner[0] + r, corner[1] + r), 0, 360, fill=yellow
                    )
                d.polygon(
                    [
                        (cx, cy - size * 0.3),
                        (cx + size * 0.3, cy),
                        (cx, cy + size * 0.3),
                        (cx - size * 0.3, cy),
                    ],
                    outline=blue,
                    width=7 * S,
                )
                d.ellipse((cx - 10 * S, cy - 10 * S, cx + 10 * S, cy + 10 * S), fill=green)
    return vignette(img, 0.25)


def cover_smalti() -> Image.Image:
    img = to_image(backdrop(W, H, ("#f1f3ef", "#e3e8e1"), ("#e6dccb", "#d6c8b2"), 0.38, 23))
    families = (
        ("#8fa58a", "#a7b9a2", "#7b9477", "#b6c3ae"),
        ("#e2c36f", "#edd391", "#d6b25a", "#f0dca6"),
        ("#2f6ea8", "#4b86bb", "#24588f", "#6b9dcb"),
    )
    tw, th, gap = 118 * S, 118 * S, 26 * S
    x_start = (W - (8 * tw + 7 * gap)) // 2
    for row, fam in enumerate(families):
        for col in range(8):
            x = x_start + col * (tw + gap)
            y = 230 * S + row * (th * 0.92 + 12 * S) - row * 6 * S
            shadow(img, (x + 6 * S, y + 14 * S, x + tw + 12 * S, y + th * 0.86 + 16 * S), 0.35, 6 * S)
            d = ImageDraw.Draw(img)
            col_hex = fam[(col + row) % 4]
            d.rounded_rectangle((x, y, x + tw, y + th * 0.82), radius=10 * S, fill=rgb(col_hex))
            d.rounded_rectangle(
                (x, y + th * 0.62, x + tw, y + th * 0.82),
                radius=10 * S,
                fill=tuple(int(c * 0.82) for c in rgb(col_hex)),
            )
            d.ellipse((x + 14 * S, y + 12 * S, x + 40 * S, y + 26 * S), fill=(255, 255, 255))
    # a sprig of spring blossom in the corner
    d = ImageDraw.Draw(img)
    d.line([(1080 * S, 0), (1030 * S, 90 * S), (960 * S, 150 * S)], fill=rgb("#6b4a2b"), width=6 * S)
    for x, y in ((1050 * S, 60 * S), (990 * S, 130 * S), (1015 * S, 100 * S), (960 * S, 150 * S)):
        for a in range(5):
            ang = a * 2 * math.pi / 5
            px, py = x + math.cos(ang) * 14 * S, y + math.sin(ang) * 14 * S
            d.ellipse((px - 11 * S, py - 11 * S, px + 11 * S, py + 11 * S), fill=rgb("#f7d7de"))
        d.ellipse((x - 6 * S, y - 6 * S, x + 6 * S, y + 6 * S), fill=rgb("#e2a33a"))
    return vignette(img)


def shopfront(spring: bool) -> Image.Image:
    seed = 25 if spring else 24
    sky = ("#cfe3f0", "#eef4f3") if spring else ("#f3d9b8", "#f6eadb")
    img = to_image(backdrop(W, H, sky, ("#b8aa98", "#a89a88"), 0.86, seed))
    d = ImageDraw.Draw(img)
    # the building
    d.rectangle((140 * S, 40 * S, 1060 * S, 545 * S), fill=rgb("#e9c9a0"))
    d.rectangle((140 * S, 40 * S, 1060 * S, 60 * S), fill=rgb("#c89e73"))
    # shop window and door
    d.rectangle((220 * S, 230 * S, 560 * S, 500 * S), fill=rgb("#5b6b72"))
    d.rectangle((232 * S, 242 * S, 548 * S, 488 * S), fill=rgb("#8aa2ab"))
    for i, (col, hh) in enumerate((("#2f6ea8", 90), ("#f0b7a3", 70), ("#8fa58a", 110), ("#e0a43a", 60))):
        x = 270 * S + i * 75 * S
        d.rounded_rectangle((x, 470 * S - hh * S, x + 46 * S, 478 * S), radius=14 * S, fill=rgb(col))
    d.rectangle((232 * S, 478 * S, 548 * S, 488 * S), fill=rgb("#c49a6c"))
    d.rectangle((660 * S, 220 * S, 860 * S, 545 * S), fill=rgb("#4a3528"))
    d.rectangle((672 * S, 232 * S, 760 * S, 545 * S), fill=rgb("#f3cf8c"))  # open door, warm light
    d.rectangle((760 * S, 232 * S, 848 * S, 545 * S), fill=rgb("#6b4a35"))
    # striped awning
    stripes = ("#c4472c", "#f6f0e2")
    for i in range(12):
        x = 200 * S + i * 55 * S
        d.polygon(
            [(x, 150 * S), (x + 55 * S, 150 * S), (x + 55 * S, 215 * S), (x, 215 * S)],
            fill=rgb(stripes[i % 2]),
        )
        d.pieslice((x, 190 * S, x + 55 * S, 240 * S), 0, 180, fill=rgb(stripes[i % 2]))
    # sign
    d.rounded_rectangle((290 * S, 78 * S, 910 * S, 138 * S), radius=8 * S, fill=rgb("#2d5f9a"))
    font = load_font(30 * S)
    d.text((600 * S, 108 * S), "BOTTEGA CERAMICA AURORA", fill=rgb("#f6f0e2"), font=font, anchor="mm")
    # bunting
    colors = ("#2d5f9a", "#e0a43a", "#4f8a3c", "#c4472c")
    for i in range(14):
        x = 150 * S + i * 66 * S
        sag = 18 * S * math.sin(math.pi * (i % 7) / 7)
        d.polygon(
            [(x, 20 * S + sag), (x + 56 * S, 20 * S + sag), (x + 28 * S, 70 * S + sag)],
            fill=rgb(colors[i % 4]),
        )
    # plants by the door
    for px in (600 * S, 920 * S):
        d.polygon(
            [(px - 40 * S, 470 * S), (px + 40 * S, 470 * S), (px + 30 * S, 545 * S), (px - 30 * S, 545 * S)],
            fill=rgb("#c8693f"),
        )
        for a in range(7):
            ang = -math.pi / 2 + (a - 3) * 0.35
            leaf(d, px, 470 * S, 90 * S, ang, "#4f8a3c" if a % 2 else "#6aa352")
        if spring:
            for a in range(5):
                fx, fy = px + (a - 2) * 22 * S, 400 * S + (a % 2) * 25 * S
                d.ellipse((fx - 12 * S, fy - 12 * S, fx + 12 * S, fy + 12 * S), fill=rgb("#f2a7b5"))
                d.ellipse((fx - 4 * S, fy - 4 * S, fx + 4 * S, fy + 4 * S), fill=rgb("#e2a33a"))
    if spring:
        for x, y, s, a in ((1000, 140, 40, -0.3), (1110, 95, 30, -0.1), (70, 180, 34, 0.2)):
            swallow(d, x * S, y * S, s * S, a, rgb("#23324f"))
    return vignette(img)


def cover_natale() -> Image.Image:
    img = to_image(backdrop(W, H, ("#24453a", "#1c372e"), ("#8a6a4d", "#7a5c41"), 0.74, 26, "wood"))
    boxes = (
        (230, 300, 240, 170, "#efe4cf"),
        (500, 250, 200, 220, "#e8d6b8"),
        (740, 340, 180, 130, "#f2e9d8"),
    )
    for x, _y, w_, _h, _col in boxes:
        shadow(img, ((x - 10) * S, (500 - 10) * S, (x + w_ + 30) * S, (500 + 30) * S), 0.5, 12 * S)
    d = ImageDraw.Draw(img)
    for x, _y, w_, h_, col in boxes:
        top = 505 - h_
        d.rectangle((x * S, top * S, (x + w_) * S, 505 * S), fill=rgb(col))
        d.rectangle(
            (x * S, top * S, (x + w_) * S, (top + 22) * S), fill=tuple(int(c * 0.92) for c in rgb(col))
        )
        mx = x + w_ / 2
        d.line((mx * S, top * S, mx * S, 505 * S), fill=rgb("#9b7047"), width=5 * S)
        d.line(
            (x * S, (top + h_ / 2) * S, (x + w_) * S, (top + h_ / 2) * S), fill=rgb("#9b7047"), width=5 * S
        )
        d.ellipse(
            ((mx - 26) * S, (top - 18) * S, (mx - 2) * S, (top + 2) * S), outline=rgb("#9b7047"), width=5 * S
        )
        d.ellipse(
            ((mx + 2) * S, (top - 18) * S, (mx + 26) * S, (top + 2) * S), outline=rgb("#9b7047"), width=5 * S
        )
        d.rectangle(((x + 14) * S, (top + 40) * S, (x + 74) * S, (top + 76) * S), fill=rgb("#fbf7ee"))
        d.line(((x + 22) * S, (top + 52) * S, (x + 64) * S, (top + 52) * S), fill=rgb("#2d5f9a"), width=2 * S)
        d.line(((x + 22) * S, (top + 63) * S, (x + 54) * S, (top + 63) * S), fill=rgb("#2d5f9a"), width=2 * S)
    # a small blue mug beside the parcels
    shadow(img, (960 * S, 490 * S, 1100 * S, 520 * S), 0.5, 10 * S)
    mug(img, 1020 * S, 505 * S, 120 * S, 55 * S, "#2f6ea8")
    # stars and warm lights
    d = ImageDraw.Draw(img)
    rng = np.random.default_rng(26)
    for _ in range(26):
        x, y = rng.random() * W, rng.random() * 330 * S
        r = (3 + rng.random() * 5) * S
        pts = []
        for k in range(10):
            ang = -math.pi / 2 + k * math.pi / 5
            rad = r * (1 if k % 2 == 0 else 0.45)
            pts.append((x + math.cos(ang) * rad, y + math.sin(ang) * rad))
        d.polygon(pts, fill=rgb("#f3d27a"))
    return vignette(img)


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in (
        "DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
        "LiberationSerif-Bold.ttf",
    ):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def share_image() -> Image.Image:
    img = to_image(backdrop(W, H, ("#f6efe2", "#efe3cf"), ("#d9c6a8", "#ccb794"), 0.78, 27))
    d = ImageDraw.Draw(img)
    # the rising sun of the logo
    cx, cy = 600 * S, 205 * S
    for i, col in enumerate(("#f3c27a", "#eba35a", "#d9773d")):
        r = (150 - i * 40) * S
        d.pieslice((cx - r, cy - r, cx + r, cy + r), 180, 360, fill=rgb(col))
    for k in range(9):
        ang = math.pi + k * math.pi / 8
        d.line(
            (
                cx + math.cos(ang) * 165 * S,
                cy + math.sin(ang) * 165 * S,
                cx + math.cos(ang) * 195 * S,
                cy + math.sin(ang) * 195 * S,
            ),
            fill=rgb("#d9773d"),
            width=7 * S,
        )
    d.line((360 * S, cy, 840 * S, cy), fill=rgb("#2d5f9a"), width=8 * S)
    d.text(
        (600 * S, 285 * S),
        "Bottega Ceramica Aurora",
        fill=rgb("#2d3a4f"),
        font=load_font(64 * S),
        anchor="mm",
    )
    d.text(
        (600 * S, 350 * S),
        "Ceramiche fatte a mano a Montelupo Fiorentino",
        fill=rgb("#6b4a35"),
        font=load_font(30 * S),
        anchor="mm",
    )
    # a row of pieces on the table: cup, vase, bowl, bottle, jar
    base = 560 * S
    pieces = (
        (390, "#2f6ea8", [(-80, 42), (-40, 44), (-8, 37), (0, 35)], True),
        (500, "#f6f0e2", [(-150, 28), (-125, 24), (-95, 40), (-55, 54), (-15, 40), (0, 34)], True),
        (625, "#8fa58a", [(-60, 78), (-35, 70), (-12, 50), (0, 40)], True),
        (745, "#1d2c55", [(-160, 12), (-125, 14), (-85, 46), (-35, 56), (-8, 42), (0, 38)], True),
        (850, "#f0b7a3", [(-95, 36), (-70, 50), (-25, 48), (0, 38)], True),
    )
    for x, col, prof, open_top in pieces:
        x *= S
        width = max(r for _, r in prof) * S
        shadow(img, (x - width * 0.9, base - 12 * S, x + width * 1.3, base + 14 * S), 0.4, 8 * S)
        profile = [(base + dy * S, r * S) for dy, r in prof]
        vessel(img, x, profile, col, pool=0.25, gloss=0.5)
        if open_top:
            opening(img, x, profile[0][0], profile[0][1], "#6b5a4c", "#e9dfcf")
    return vignette(img, 0.12)


# --------------------------------------------------------------------------- output


def save(img: Image.Image, rel: str) -> None:
    final = img.resize((img.width // S, img.height // S), Image.LANCZOS)
    path = ASSETS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    for quality in (80, 76, 72, 68, 64, 60):
        final.save(path, "JPEG", quality=quality, optimize=True, progressive=True)
        if path.stat().st_size < MAX_BYTES:
            break
    print(f"{rel}: {final.width}x{final.height}, {path.stat().st_size // 1024} KB, quality {quality}")


def main() -> None:
    products: dict[str, Callable[[], Image.Image]] = {
        "prodotti/tazza-mare.jpg": tazza_mare,
        "prodotti/tazza-mare-dettaglio.jpg": tazza_mare_dettaglio,
        "prodotti/piatto-limoni.jpg": piatto_limoni,
        "prodotti/insalatiera-salvia.jpg": insalatiera_salvia,
        "prodotti/brocca-aurora.jpg": brocca_aurora,
        "prodotti/vaso-melagrana.jpg": vaso_melagrana,
        "prodotti/vaso-melagrana-retro.jpg": lambda: vaso_melagrana(back=True),
        "prodotti/vaso-notturno.jpg": vaso_notturno,
        "prodotti/formella-rondine.jpg": formella_rondine,
        "prodotti/angioletti.jpg": angioletti,
        "prodotti/lampada-lucciola.jpg": lampada_lucciola,
        "blog/forno.jpg": cover_forno,
        "blog/tornio.jpg": cover_tornio,
        "blog/maiolica.jpg": cover_maiolica,
        "blog/smalti-primavera.jpg": cover_smalti,
        "blog/porte-aperte.jpg": lambda: shopfront(spring=False),
        "blog/porte-aperte-primavera.jpg": lambda: shopfront(spring=True),
        "blog/natale.jpg": cover_natale,
        "condivisione.jpg": share_image,
    }
    for rel, make in products.items():
        save(make(), rel)


if __name__ == "__main__":
    main()
