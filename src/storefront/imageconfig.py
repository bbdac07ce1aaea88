"""The ``images:`` section of ``storefront.yaml``: how photos are resized and encoded.

Part of the config (stage 1): frozen dataclasses checked by :mod:`storefront.schema`, so a wrong
width or quality is reported as ``storefront.yaml:LINE``. Pure. Which of the configured formats
a build really writes also depends on the installed Pillow (AVIF is checked at run time, see
:mod:`storefront.imaging`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from storefront.schema import field_doc
from storefront.values import parse_width

ModernFormat = Literal["avif", "webp"]
_QUALITY = {"minimum": 1, "maximum": 100}


@dataclass(frozen=True)
class ImageQuality:
    jpeg: int = field(default=82, metadata=field_doc("JPEG quality, 1-100", **_QUALITY))
    webp: int = field(default=80, metadata=field_doc("WebP quality, 1-100", **_QUALITY))
    avif: int = field(default=60, metadata=field_doc("AVIF quality, 1-100", **_QUALITY))


@dataclass(frozen=True)
class ImageSettings:
    widths: tuple[int, ...] = field(
        default=(480, 960, 1600),
        metadata=field_doc("widths in pixels of the resized copies (never wider than the photo)",
                           parse=parse_width))
    formats: tuple[ModernFormat, ...] = field(
        default=("avif", "webp"),
        metadata=field_doc("modern formats written besides the photo's own (JPEG or PNG)"))
    quality: ImageQuality = field(default_factory=ImageQuality,
                                  metadata=field_doc("encoder quality per format"))
    sizes: str = field(default="(min-width: 46rem) 46rem, 100vw",
                       metadata=field_doc("the sizes attribute of images in Markdown text"))
    max_megapixels: int = field(
        default=150, metadata=field_doc("largest image accepted, in millions of pixels (a guard "
                                        "against decompression bombs)", minimum=1, maximum=2000))

    def __post_init__(self) -> None:
        if not self.widths:
            raise ValueError("images.widths must list at least one width, like [480, 960, 1600]")
        object.__setattr__(self, "widths", tuple(sorted(set(self.widths))))
        object.__setattr__(self, "formats", tuple(dict.fromkeys(self.formats)))
