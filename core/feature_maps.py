"""Feature maps: classic 3 × 3 kernels (and one the user writes) applied to a grayscale image with F.conv2d.

PyTorch's conv2d computes cross-correlation: y[i, j] = Σ_m Σ_n x[i + m, j + n] · K[m, n], with no kernel
flip, which is the formula the course writes (§5.2). The page's test image is drawn here, deterministically;
assets/images/shapes.png is this drawing saved once (regenerate it with `save_shapes_image()`).
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from core.checks import Check
from core.conv_arithmetic import shifted_sums

SHAPES_PATH = Path(__file__).resolve().parents[1] / "assets" / "images" / "shapes.png"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # refuse larger files
MAX_UPLOAD_PIXELS = 4096 * 4096  # refuse larger images before decoding them
WORK_SIDE = 128  # uploads are scaled down to this many pixels on their longer side
MAX_KERNEL_ENTRY = 100.0  # |entries| of a custom kernel

KERNELS: dict[str, tuple[tuple[float, ...], ...]] = {
    "identity": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
    "edge_x": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),  # Sobel: responds to changes along x (vertical edges)
    "edge_y": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),  # Sobel: responds to changes along y (horizontal edges)
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
    "blur": ((1 / 16, 2 / 16, 1 / 16), (2 / 16, 4 / 16, 2 / 16), (1 / 16, 2 / 16, 1 / 16)),  # Gaussian 3 × 3
}
LABELS: dict[str, str] = {
    "identity": "identity", "edge_x": "edge-x (Sobel)", "edge_y": "edge-y (Sobel)", "sharpen": "sharpen",
    "blur": "blur (Gaussian)", "custom": "custom (edit below)",
}
FILTERS: tuple[str, ...] = (*KERNELS, "custom")
DEFAULT_CUSTOM = "-2,-1,0; -1,1,1; 0,1,2"  # an emboss kernel: not symmetric, so flipping it matters


@dataclass(frozen=True)
class KernelText:
    """A 3 × 3 kernel parsed from "a,b,c; d,e,f; g,h,i", or the reason it could not be."""

    kernel: tuple[tuple[float, ...], ...] | None
    error: str | None


def parse_kernel(text: str) -> KernelText:
    """Three rows separated by ";", three numbers per row separated by "," (spaces are ignored)."""
    text = (text or "").replace("`", "'")  # cells are quoted in messages as inline code
    rows = [r.strip() for r in text.strip().strip(";").split(";")]
    if len(rows) != 3:
        return KernelText(None, f"Write 3 rows separated by ';' (found {len(rows)}), e.g. `{DEFAULT_CUSTOM}`.")
    values = []
    for i, row in enumerate(rows, 1):
        cells = [c.strip() for c in row.split(",")]
        if len(cells) != 3:
            return KernelText(None, f"Row {i} has {len(cells)} numbers; each row needs 3, separated by ','.")
        for cell in cells:
            try:
                v = float(cell)
            except ValueError:
                return KernelText(None, f"Row {i}: `{cell[:12]}` is not a number.")
            if not math.isfinite(v) or abs(v) > MAX_KERNEL_ENTRY:
                return KernelText(None, f"Row {i}: {cell[:12]} is outside −{MAX_KERNEL_ENTRY:g} … {MAX_KERNEL_ENTRY:g}.")
        values.append(tuple(float(c) for c in cells))
    return KernelText(tuple(values), None)


def kernel_text(kernel: tuple[tuple[float, ...], ...]) -> str:
    """The "a,b,c; d,e,f; g,h,i" form of a kernel."""
    return "; ".join(",".join(f"{v:g}" for v in row) for row in kernel)


def shapes_image(size: int = 96, oversample: int = 4) -> torch.Tensor:
    """A grayscale test image: a soft gradient, a disc, a square, a triangle and a bar of stripes.

    Drawn at `oversample`× and averaged down, so the edges are anti-aliased; values in [0, 1].

    Returns:
        (size, size) float64.
    """
    n = size * oversample
    t = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    y, x = torch.meshgrid(t, t, indexing="ij")
    img = 0.12 + 0.18 * x  # background: dark, brighter to the right
    img = torch.where((x - 0.3) ** 2 + (y - 0.3) ** 2 < 0.17**2, torch.full_like(img, 0.9), img)  # disc
    img = torch.where((x > 0.56) & (x < 0.86) & (y > 0.14) & (y < 0.44), torch.full_like(img, 0.62), img)  # square
    tri = (y > 0.56) & (y < 0.88) & ((x - 0.3).abs() < (y - 0.56) * 0.62)  # triangle, apex up
    img = torch.where(tri, torch.full_like(img, 0.78), img)
    stripes = (x > 0.56) & (x < 0.88) & (y > 0.58) & (y < 0.86)
    img = torch.where(stripes & (torch.floor(x * 40) % 2 == 0), torch.full_like(img, 0.95), img)
    img = torch.where(stripes & (torch.floor(x * 40) % 2 == 1), torch.full_like(img, 0.25), img)
    return F.avg_pool2d(img[None, None], oversample)[0, 0]


def to_png(image: torch.Tensor) -> bytes:
    """8-bit grayscale PNG bytes of an image with values in [0, 1]."""
    buf = io.BytesIO()
    Image.fromarray((image.clamp(0, 1) * 255).round().to(torch.uint8).numpy(), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def save_shapes_image(path: Path = SHAPES_PATH) -> None:
    """Write `shapes_image()` to assets/images/shapes.png (the file the page ships)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_png(shapes_image()))


@dataclass(frozen=True)
class LoadedImage:
    """A grayscale image ready for F.conv2d, or why the file was refused."""

    image: torch.Tensor | None  # (H, W) float64 in [0, 1]
    error: str | None
    note: str | None = None  # e.g. that the image was scaled down


def load_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, work_side: int = WORK_SIDE) -> LoadedImage:
    """Decode PNG/JPEG/… bytes to grayscale, refusing empty, oversized and non-image files.

    Images larger than `work_side` on their longer side are scaled down (area averaging) to keep the
    convolution instant; the note says so.
    """
    if not data:
        return LoadedImage(None, "The file is empty: upload a PNG or JPEG image.")
    if len(data) > max_bytes:
        return LoadedImage(None, f"The file is {len(data) / 2**20:.1f} MB; images up to {max_bytes / 2**20:.0f} MB are accepted.")
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_UPLOAD_PIXELS:
                return LoadedImage(None, f"The image is {w} × {h} pixels; images up to 4096 × 4096 are accepted.")
            gray = im.convert("L")
            gray.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        if isinstance(exc, UnidentifiedImageError):
            return LoadedImage(None, "This file is not an image PIL can identify. Upload a PNG or JPEG image.")
        return LoadedImage(None, f"This image could not be read (PIL: {_short(str(exc))}). Upload a PNG or JPEG image.")
    note = None
    if max(w, h) > work_side:
        scale = work_side / max(w, h)
        gray = gray.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
        note = f"Scaled from {w} × {h} to {gray.width} × {gray.height} pixels, so each change is instant."
    return LoadedImage(torch.from_numpy(np.asarray(gray, dtype=np.float64) / 255.0), None, note)


def _short(text: str) -> str:
    return re.sub(r"<[^>]*>", "", text)[:120]


@dataclass(frozen=True)
class FeatureMap:
    """One 3 × 3 kernel applied with F.conv2d (padding 1, stride 1) to a grayscale image."""

    image: torch.Tensor  # (H, W)
    kernel: torch.Tensor  # (3, 3)
    output: torch.Tensor  # (H, W) F.conv2d(image, kernel, padding=1)
    by_formula: torch.Tensor  # (H, W) Σ_m Σ_n x[i + m, j + n] K[m, n] on the zero-padded image
    flipped: torch.Tensor  # (H, W) true convolution: the same with the kernel rotated by 180°

    @property
    def error(self) -> float:
        """max |F.conv2d − the course's sum|."""
        return float((self.output - self.by_formula).abs().max())

    @property
    def flip_difference(self) -> float:
        """max |cross-correlation − convolution|: 0 for kernels symmetric under a 180° turn."""
        return float((self.output - self.flipped).abs().max())


def feature_map(image: torch.Tensor, kernel: tuple[tuple[float, ...], ...]) -> FeatureMap:
    """Apply a 3 × 3 kernel to an (H, W) image with F.conv2d, and by the course's formula, and flipped."""
    w = torch.tensor(kernel, dtype=torch.float64)
    with torch.inference_mode():
        output = F.conv2d(image[None, None], w[None, None], padding=1)[0, 0]
        padded = F.pad(image, (1, 1, 1, 1))
        return FeatureMap(image, w, output, shifted_sums(padded, w, 1, 1), shifted_sums(padded, w.flip(0, 1), 1, 1))


def checks(fmap: FeatureMap) -> list[Check]:
    """F.conv2d against the course's sum (no flip), on the whole feature map."""
    return [Check(f"Feature map ({fmap.image.shape[0]} × {fmap.image.shape[1]}): Σ x[i+m, j+n]·K[m, n] vs F.conv2d (max |difference|)",
                  float(fmap.by_formula.abs().max()), float(fmap.output.abs().max()), 1e-9, error=fmap.error)]
