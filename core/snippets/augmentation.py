"""The Images & augmentation page's view as a standalone torch + torchvision script."""
from __future__ import annotations

import base64
import re

from core import augmentation as aug

_LINE = 96  # base64 characters per line of the embedded picture


def safe_name(name: str) -> str:
    """An uploaded file's name as a plain relative path (letters, digits, . _ -), never a path elsewhere."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).lstrip(".")
    return clean[:80] or "my_image.png"


def _loader(loaded: aug.Loaded, gray: bool) -> tuple[str, str]:
    """The script's load_image() and, for a bundled picture, the PNG bytes it decodes (written at the end)."""
    mode = '.convert("L")' if gray else ""
    gray_note = "; .convert(\"L\") makes it grayscale, L = 0.299 R + 0.587 G + 0.114 B" if gray else ""
    if loaded.source == "bundled":
        path = aug.bundled_path(loaded.name)
        text = base64.b64encode(path.read_bytes()).decode("ascii")
        rows = "\n".join(f'    "{text[i : i + _LINE]}"' for i in range(0, len(text), _LINE))
        func = f'''def load_image() -> Image.Image:
    """The page's bundled picture, assets/clouds/train/{loaded.name}/{path.name} (the PNG file's bytes are
    written at the end of this script){gray_note}."""
    return Image.open(io.BytesIO(base64.b64decode(PICTURE_PNG))).convert("RGB"){mode}
'''
        return func, f"\n\n# assets/clouds/train/{loaded.name}/{path.name}, base64\nPICTURE_PNG = (\n{rows}\n)\n"
    name = safe_name(loaded.name)
    w, h = loaded.original_size or loaded.image.size
    sw, sh = aug.scaled_size(w, h)
    scale = (f"\n    image = image.resize(({sw}, {sh}), Image.Resampling.BOX)   # scaled down as the page did, from {w} × {h}"
             if (sw, sh) != (w, h) else "")
    func = f'''def load_image() -> Image.Image:
    """Your picture: put {name} next to this script{gray_note}."""
    image = Image.open("{name}").convert("RGB"){scale}
    return image{mode}
'''
    return func, ""


def _pipeline_lines(p: aug.Pipeline, height: int, width: int, indent: str) -> str:
    """The Compose list, one transform a line, comments aligned."""
    lines: list[tuple[str, str]] = [("v2.ToImage(),", "PIL H × W × C → (C, H, W) uint8")]
    if p.crop < 1:
        lines.append((f"v2.RandomResizedCrop(({height}, {width}), scale=({p.crop:g}, 1.0)),",
                      f"{p.crop:g}–1 of the area, back to H × W"))
    lines += [(f"v2.RandomHorizontalFlip(p={p.flip_p:g}),", ""),
              (f"v2.RandomRotation({p.rotation:g}),", f"θ uniform in [-{p.rotation:g}°, {p.rotation:g}°], black corners"),
              (f"v2.RandomAutocontrast(p={p.autocontrast_p:g}),", "")]
    if p.jitter > 0:
        lines.append((f"v2.ColorJitter(brightness={p.jitter:g}, contrast={p.jitter:g}, saturation={p.jitter:g}),",
                      f"each factor in [{max(0.0, 1 - p.jitter):g}, {1 + p.jitter:g}]"))
    lines += [("v2.ToDtype(torch.float32, scale=True),", "[0, 255] → [0, 1]"), (f"v2.Resize(({p.size}, {p.size})),", "")]
    width_code = max(len(code) for code, _ in lines) + 2
    return "\n".join(indent + (f"{code:<{width_code}}# {note}" if note else code) for code, note in lines)


def pipeline(p: aug.Pipeline, height: int, width: int) -> str:
    """The pipeline alone, as the page shows it beside the grid."""
    return f"pipeline = v2.Compose([\n{_pipeline_lines(p, height, width, '    ')}\n])"


def code(loaded: aug.Loaded, p: aug.Pipeline, seed: int, n: int, row: int, col: int) -> str:
    """A script that turns the page's picture into a tensor, reads one pixel, and draws the page's N samples with the
    plain torchvision pipeline and torch.manual_seed(seed + i): it prints the same means the page shows."""
    gray = loaded.image.mode == "L"
    channels = "L" if gray else "RGB"
    width, height = loaded.image.size
    load_image, data = _loader(loaded, gray)
    return f'''"""Images & augmentation (course 4.1-4.3): a picture as a (C, H, W) tensor, and N augmented samples."""
import base64
import io

import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import v2

{f"SEED = {seed}":<24}# sample i is drawn after torch.manual_seed(SEED + i)
{f"N = {n}":<24}# samples in the grid
{f"ROW, COL = {row}, {col}":<24}# the pixel to read
{f'CHANNELS = "{channels}"':<24}# their names


{load_image}

def main() -> None:
    image = load_image()                                    # PIL image: H × W × C values 0…255
    x = v2.ToImage()(image)                                 # (C, H, W) uint8
    C, H, W = x.shape
    print(f"image: C={{C}} H={{H}} W={{W}} dtype={{x.dtype}}")

    scaled = v2.ToDtype(torch.float32, scale=True)(x)       # (C, H, W) float32 in [0, 1]
    print(f"pixel: row={{ROW}} col={{COL}} " + " ".join(f"{{n}}={{int(v)}}" for n, v in zip(CHANNELS, x[:, ROW, COL])))
    print("scaled: " + " ".join(f"{{n}}={{v:.9g}}" for n, v in zip(CHANNELS, scaled[:, ROW, COL].tolist())))
    div = x.double() / 255                                  # the formula, in float64
    old = transforms.ToTensor()(image)                      # the course's section 4.2 transform
    print(f"scaling: todtype_max_error={{(scaled.double() - div).abs().max().item():.3g}} "
          f"totensor_max_error={{(old.double() - div).abs().max().item():.3g}}")

    flip = v2.RandomHorizontalFlip(p=1.0)(x)                # p = 1: always flips
    print(f"flip: differing_from_torch_flip={{(flip != torch.flip(x, dims=[-1])).sum().item()}}")

    pipeline = v2.Compose([
{_pipeline_lines(p, height, width, "        ")}
    ])
    samples = []
    for i in range(N):
        torch.manual_seed(SEED + i)                         # the random transforms draw from torch's global RNG
        samples.append(pipeline(image))
    batch = torch.stack(samples)                            # (N, C, H, W)
    n, c, h, w = batch.shape
    print(f"batch: N={{n}} C={{c}} H={{h}} W={{w}}")
    for i, sample in enumerate(samples):
        print(f"sample{{i}}: seed={{SEED + i}} mean={{sample.mean().item():.10g}}")

{data}
if __name__ == "__main__":
    main()
'''
