"""A CNN written as a one-line spec, built into an `nn.Sequential`, run once, and its receptive fields.

The spec is one layer per entry, separated by ";" (or new lines), e.g. the course's `Net` (§5.9):
    conv 32 3 p1; elu; maxpool 2; conv 64 3 p1; elu; maxpool 2; flatten; linear 16384 10
Each layer takes its input channels (and `linear OUT` its in_features) from the tensor that reaches it,
as a forward pass finds it; `linear IN OUT` states in_features, and PyTorch refuses when they differ.

The stack is first run on PyTorch's meta device (shapes, no arithmetic) to count parameters and
multiply-adds; if it is small enough it is then built and run on the CPU, which gives the real shapes
and PyTorch's real error messages. Weights are drawn with PyTorch's default init ranges from a
`torch.Generator`, never the global RNG.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from core.checks import Check
from core.conv_arithmetic import course_output_size, empty_output_hint, output_size, pads_for
from core.rng import generator

DEFAULT_SPEC = "conv 32 3 p1; elu; maxpool 2; conv 64 3 p1; elu; maxpool 2; flatten; linear 16384 10"
MAX_LAYERS = 24
MAX_PARAMS = 20_000_000  # larger stacks are only run on the meta device
MAX_MACS = 300_000_000  # multiply-adds of one forward pass
KINDS = ("conv", "maxpool", "avgpool", "batchnorm", "relu", "elu", "dropout", "flatten", "linear")
_ALIASES = {"conv": "conv", "conv2d": "conv", "maxpool": "maxpool", "maxpool2d": "maxpool", "avgpool": "avgpool",
            "avgpool2d": "avgpool", "bn": "batchnorm", "batchnorm": "batchnorm", "batchnorm2d": "batchnorm",
            "relu": "relu", "elu": "elu", "dropout": "dropout", "flatten": "flatten", "linear": "linear", "fc": "linear"}
USAGE = {
    "conv": "conv OUT K [pP | same] [sS] [dD], e.g. `conv 32 3 p1`",
    "maxpool": "maxpool K [sS], e.g. `maxpool 2`",
    "avgpool": "avgpool K [sS], e.g. `avgpool 2`",
    "batchnorm": "batchnorm (or bn)",
    "relu": "relu",
    "elu": "elu",
    "dropout": "dropout [P], e.g. `dropout 0.5`",
    "flatten": "flatten",
    "linear": "linear OUT, or linear IN OUT, e.g. `linear 16384 10`",
}
_LIMITS = {"out": (1, 512), "k": (1, 11), "p": (0, 10), "s": (1, 5), "d": (1, 4), "pool_k": (1, 8), "pool_s": (1, 8),
           "features": (1, 1_000_000), "classes": (1, 4096)}


@dataclass(frozen=True)
class LayerSpec:
    """One parsed layer. Fields a kind does not use stay None."""

    kind: str  # one of KINDS
    out: int | None = None  # conv out_channels, linear out_features
    k: int | None = None  # kernel (conv) or window (pool) size
    s: int | None = None  # stride
    p: int | str | None = None  # conv padding: a number or "same"
    d: int | None = None  # conv dilation
    drop: float | None = None  # dropout probability
    in_features: int | None = None  # linear in_features when written, None = fit to the input

    @property
    def text(self) -> str:
        """The spec entry in its canonical form."""
        if self.kind == "conv":
            extra = ("" if self.p == 0 else (" same" if self.p == "same" else f" p{self.p}")) + \
                ("" if self.s == 1 else f" s{self.s}") + ("" if self.d == 1 else f" d{self.d}")
            return f"conv {self.out} {self.k}{extra}"
        if self.kind in ("maxpool", "avgpool"):
            return f"{self.kind} {self.k}" + ("" if self.s == self.k else f" s{self.s}")
        if self.kind == "dropout":
            return f"dropout {self.drop:g}"
        if self.kind == "linear":
            return f"linear {self.out}" if self.in_features is None else f"linear {self.in_features} {self.out}"
        return self.kind


@dataclass(frozen=True)
class Parsed:
    layers: tuple[LayerSpec, ...]
    errors: tuple[str, ...]  # one message per entry that could not be read


def _number(token: str, name: str, limits: tuple[int, int]) -> int:
    if not re.fullmatch(r"\d{1,7}", token):
        raise ValueError(f"{name} must be a whole number, not `{token[:12]}`")
    value = int(token)
    if not limits[0] <= value <= limits[1]:
        raise ValueError(f"{name} must be from {limits[0]} to {limits[1]:,}, not {value:,}")
    return value


def _options(tokens: list[str], allowed: str) -> dict[str, str]:
    """`p1`, `p=1`, `s2`, `d2`, `same` → {"p": "1", "s": "2", "d": "2", "p": "same"}."""
    out = {}
    for token in tokens:
        if token == "same" and "p" in allowed:
            out["p"] = "same"
            continue
        match = re.fullmatch(r"([a-z])=?(\w+)", token)
        if not match or match.group(1) not in allowed:
            raise ValueError(f"`{token[:12]}` is not an option here")
        out[match.group(1)] = match.group(2)
    return out


def parse_layer(entry: str) -> LayerSpec:
    """One spec entry → LayerSpec. Raises ValueError with the reason in words."""
    tokens = entry.lower().split()
    kind = _ALIASES.get(tokens[0])
    if kind is None:
        raise ValueError(f"`{tokens[0][:16]}` is not a layer; use one of {', '.join(KINDS)}")
    args, opts = [t for t in tokens[1:] if re.fullmatch(r"\d+(\.\d+)?", t)], [t for t in tokens[1:] if not re.fullmatch(r"\d+(\.\d+)?", t)]
    if kind == "conv":
        if len(args) != 2:
            raise ValueError("conv needs OUT channels and kernel size K")
        o = _options(opts, "psd")
        p = o.get("p", "0")
        return LayerSpec("conv", out=_number(args[0], "OUT", _LIMITS["out"]), k=_number(args[1], "K", _LIMITS["k"]),
                         p=p if p == "same" else _number(p, "padding", _LIMITS["p"]), s=_number(o.get("s", "1"), "stride", _LIMITS["s"]),
                         d=_number(o.get("d", "1"), "dilation", _LIMITS["d"]))
    if kind in ("maxpool", "avgpool"):
        if len(args) != 1:
            raise ValueError(f"{kind} needs one window size K")
        k = _number(args[0], "K", _LIMITS["pool_k"])
        return LayerSpec(kind, k=k, s=_number(_options(opts, "s").get("s", str(k)), "stride", _LIMITS["pool_s"]))
    if kind == "dropout":
        if opts or len(args) > 1:
            raise ValueError("dropout takes one probability")
        drop = float(args[0]) if args else 0.5
        if not 0 <= drop < 1:
            raise ValueError(f"the dropout probability must be in [0, 1), not {drop:g}")
        return LayerSpec("dropout", drop=drop)
    if kind == "linear":
        if opts or len(args) not in (1, 2):
            raise ValueError("linear needs OUT, or IN and OUT")
        out = _number(args[-1], "OUT", _LIMITS["classes"])
        return LayerSpec("linear", out=out, in_features=_number(args[0], "IN", _LIMITS["features"]) if len(args) == 2 else None)
    if args or opts:
        raise ValueError(f"{kind} takes no numbers")
    return LayerSpec(kind)


def parse(spec: str) -> Parsed:
    """Read a whole spec; every bad entry gets its own message, naming its position and the expected form."""
    entries = [e.strip() for e in re.split(r"[;\n]", spec or "") if e.strip()]
    layers, errors = [], []
    for i, entry in enumerate(entries, 1):
        try:
            layers.append(parse_layer(entry))
        except ValueError as exc:
            kind = _ALIASES.get(entry.lower().split()[0])
            usage = f" Write: {USAGE[kind]}." if kind else ""
            errors.append(f"Layer {i}, `{entry[:40]}`: {exc}.{usage}")
    if len(layers) > MAX_LAYERS:
        errors.append(f"The stack has {len(layers)} layers; up to {MAX_LAYERS} are allowed here.")
    if not entries:
        errors.append("The stack is empty: write at least one layer, e.g. `" + DEFAULT_SPEC + "`.")
    return Parsed(tuple(layers), tuple(errors))


def module_for(layer: LayerSpec, shape: tuple[int, ...], device: str = "cpu") -> nn.Module:
    """The nn module for a layer, with in_channels / in_features taken from the input `shape`."""
    c = shape[1] if len(shape) > 1 else 1
    if layer.kind == "conv":
        return nn.Conv2d(c, layer.out, layer.k, stride=layer.s, padding=layer.p, dilation=layer.d, device=device)
    if layer.kind == "maxpool":
        return nn.MaxPool2d(layer.k, layer.s)
    if layer.kind == "avgpool":
        return nn.AvgPool2d(layer.k, layer.s)
    if layer.kind == "batchnorm":
        return nn.BatchNorm2d(c, device=device)
    if layer.kind == "linear":
        return nn.Linear(layer.in_features or shape[-1], layer.out, device=device)
    return {"relu": nn.ReLU, "elu": nn.ELU, "flatten": nn.Flatten}.get(layer.kind, lambda: nn.Dropout(layer.drop))()


def constructor(layer: LayerSpec, c: int | None, in_features: int | None) -> str:
    """The PyTorch code that builds the layer, e.g. `nn.Conv2d(3, 32, kernel_size=3, padding=1)`."""
    if layer.kind == "conv":
        extra = ("" if layer.s == 1 else f", stride={layer.s}") + ("" if layer.p == 0 else f", padding={layer.p!r}") + \
            ("" if layer.d == 1 else f", dilation={layer.d}")
        return f"nn.Conv2d({c}, {layer.out}, kernel_size={layer.k}{extra})"
    if layer.kind in ("maxpool", "avgpool"):
        name = "MaxPool2d" if layer.kind == "maxpool" else "AvgPool2d"
        return f"nn.{name}(kernel_size={layer.k}" + ("" if layer.s == layer.k else f", stride={layer.s}") + ")"
    if layer.kind == "batchnorm":
        return f"nn.BatchNorm2d({c})"
    if layer.kind == "dropout":
        return f"nn.Dropout(p={layer.drop:g})"
    if layer.kind == "linear":
        return f"nn.Linear({in_features}, {layer.out})" if in_features else f"nn.LazyLinear({layer.out})"
    return {"relu": "nn.ReLU()", "elu": "nn.ELU()", "flatten": "nn.Flatten()"}[layer.kind]


def init_(module: nn.Module, g: torch.Generator) -> nn.Module:
    """PyTorch's default init ranges for Conv2d and Linear, U(−1/√fan_in, 1/√fan_in) for weight and bias,
    drawn from `g` (the modules' own reset_parameters would draw from the global RNG). Meta modules are
    left as they are; BatchNorm2d gets its (deterministic) defaults."""
    if any(p.is_meta for p in module.parameters()):
        return module
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        bound = 1 / math.sqrt(module.weight[0].numel())
        with torch.no_grad():
            for p in module.parameters():
                p.uniform_(-bound, bound, generator=g)
    elif isinstance(module, nn.BatchNorm2d):
        module.reset_parameters()  # γ = 1, β = 0, running mean 0 and variance 1: no randomness
    return module


def param_formula(layer: LayerSpec, c: int, in_features: int) -> int:
    """Parameters by formula: C_out·C_in·k² + C_out (conv), 2C (batchnorm), in·out + out (linear), else 0."""
    if layer.kind == "conv":
        return layer.out * c * layer.k**2 + layer.out
    if layer.kind == "batchnorm":
        return 2 * c
    if layer.kind == "linear":
        return (layer.in_features or in_features) * layer.out + layer.out
    return 0


@dataclass(frozen=True)
class Field:
    """The receptive field of one unit after a layer, along one axis, in input pixels."""

    size: int | None  # r: pixels one unit sees (None: the whole input, after a Linear)
    jump: int  # input pixels between neighbouring units
    start: int  # where unit 0's field starts (negative: in the padding)
    course: int  # the course's 1 + L(k − 1): 1 + Σ (k − 1) over the conv layers so far


def fields(layers: tuple[LayerSpec, ...]) -> list[Field]:
    """r_out = r_in + (k_eff − 1)·j_in, j_out = j_in·s, start_out = start_in − p·j_in, per layer, with
    k_eff = d(k − 1) + 1. Pointwise layers and Flatten keep the field; a Linear sees the whole input."""
    size, jump, start, course, out = 1, 1, 0, 1, []
    for layer in layers:
        if layer.kind in ("conv", "maxpool", "avgpool"):
            d = layer.d or 1
            k_eff = d * (layer.k - 1) + 1
            before = pads_for(layer.p, layer.k, d)[0] if layer.kind == "conv" else 0
            if size is not None:
                size += (k_eff - 1) * jump
            start -= before * jump
            jump *= layer.s
            course += layer.k - 1 if layer.kind == "conv" else 0
        elif layer.kind == "linear":
            size = None
        out.append(Field(size, jump, start, course))
    return out


@dataclass(frozen=True)
class Row:
    """One layer of the table."""

    index: int  # 0-based position in the stack
    spec: str  # canonical spec entry
    code: str  # PyTorch constructor
    shape: tuple[int, ...] | None  # output shape of the forward pass; None where it failed
    params: int  # sum(p.numel()) of the module
    params_formula: int
    macs: int  # multiply-adds in the forward pass (conv and linear)
    size_formula: int | None  # the output's spatial side by the conv/pool formula (None: not spatial)


@dataclass(frozen=True)
class Stack:
    """The forward pass of a whole spec on a (1, C, size, size) input."""

    rows: tuple[Row, ...]  # up to and including the layer that failed
    fields: tuple[Field, ...]  # receptive field after each layer (all layers of the spec)
    error: str | None  # PyTorch's error text
    error_layer: int | None  # where it failed
    hint: str | None  # what to change
    device: str  # "cpu", or "meta" when the stack is too large to run here
    too_large: str | None  # why it was not run on the CPU
    codes: tuple[str, ...]  # a constructor for every layer of the spec (for the export)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def spatial(self) -> tuple[int, ...]:
        """Indices of layers whose output is (N, C, H, W) and whose field is finite: the ones that can be probed."""
        return tuple(r.index for r in self.rows if r.shape is not None and len(r.shape) == 4
                     and self.fields[r.index].size is not None and r.size_formula is not None)


def _hint(layer: LayerSpec, shape: tuple[int, ...]) -> str:
    if layer.kind == "linear":
        if len(shape) == 4:
            return (f"The input is still 4-D (N, C, H, W) = {tuple(shape)}: add `flatten` before the linear layer; "
                    f"after it there are C·H·W = {shape[1] * shape[2] * shape[3]:,} features.")
        return (f"The flattened input has {shape[-1]:,} features but the layer expects {layer.in_features:,}: write "
                f"`linear {shape[-1]} {layer.out}` (or `linear {layer.out}` to fit it automatically).")
    if len(shape) != 4 and layer.kind in ("conv", "maxpool", "avgpool", "batchnorm"):
        return f"This layer needs a 4-D input (N, C, H, W), but it gets {tuple(shape)}: move it before `flatten`."
    if layer.kind == "conv":
        return empty_output_hint(shape[2], shape[3], layer.k, layer.p, layer.s, layer.d)
    if layer.kind in ("maxpool", "avgpool"):
        return f"A {layer.k} × {layer.k} window does not fit in the {shape[2]} × {shape[3]} input here: use a smaller window or fewer poolings."
    return "Change this layer or the one before it."


def _spatial_formula(layer: LayerSpec, n: int | None) -> int | None:
    if n is None:
        return None
    if layer.kind == "conv":
        return output_size(n, layer.k, pads_for(layer.p, layer.k, layer.d), layer.s, layer.d)
    if layer.kind in ("maxpool", "avgpool"):
        return course_output_size(n, layer.k, 0, layer.s)
    return None if layer.kind in ("flatten", "linear") else n


def _forward(layers, in_channels, size, device, seed):
    """Run layer by layer on `device`. Returns rows, (error, where, hint) or None, the constructors used,
    the modules built and the input; on the CPU the input and weights are drawn from `seed`."""
    g = generator(seed)
    x = torch.zeros(1, in_channels, size, size, device=device) if device == "meta" else \
        torch.randn(1, in_channels, size, size, generator=g)
    x0, modules = x, []
    rows, codes, n = [], [], size
    for i, layer in enumerate(layers):
        shape = tuple(x.shape)
        c = shape[1] if len(shape) > 1 else 1
        in_features = layer.in_features or shape[-1]
        n = _spatial_formula(layer, n if len(shape) == 4 else None)
        module = None
        try:
            module = init_(module_for(layer, shape, "meta").to_empty(device=device), g)
            codes.append(constructor(layer, c, in_features))
            with torch.inference_mode():
                x = module.eval()(x)
        except (RuntimeError, ValueError) as exc:
            if len(codes) == i:
                codes.append(constructor(layer, c, in_features))
            params = param_formula(layer, c, in_features) if module is None else sum(p.numel() for p in module.parameters())
            rows.append(Row(i, layer.text, codes[-1], None, params, param_formula(layer, c, in_features), 0, n))
            return rows, (str(exc), i, _hint(layer, shape)), codes, modules, x0
        macs = x.numel() * c * layer.k**2 if layer.kind == "conv" else (x.numel() * in_features if layer.kind == "linear" else 0)
        rows.append(Row(i, layer.text, codes[-1], tuple(x.shape), sum(p.numel() for p in module.parameters()),
                        param_formula(layer, c, in_features), macs, n if len(x.shape) == 4 else None))
        modules.append(module)
    return rows, None, codes, modules, x0


def _remaining_codes(layers, codes: list[str], rows: list[Row]) -> tuple[str, ...]:
    """Constructors for the layers after a failure, with channels followed through the spec alone."""
    c = next((r.shape[1] for r in reversed(rows) if r.shape is not None and len(r.shape) > 1), None)
    for layer in layers[:len(codes)]:
        c = layer.out if layer.kind == "conv" else c
    out = list(codes)
    for layer in layers[len(codes):]:
        out.append(constructor(layer, c, layer.in_features))
        c = layer.out if layer.kind == "conv" else c
    return tuple(out)


def run(layers: tuple[LayerSpec, ...], in_channels: int, size: int, seed: int = 0) -> Stack:
    """Forward one (1, C, size, size) input through the stack: on the meta device to size it, then on the CPU.

    Returns:
        Stack; `error` holds PyTorch's message (e.g. "mat1 and mat2 shapes cannot be multiplied") and
        `hint` what to change, when a layer refuses its input.
    """
    meta_rows, meta_error, meta_codes, _, _ = _forward(layers, in_channels, size, "meta", seed)
    params, macs = sum(r.params for r in meta_rows), sum(r.macs for r in meta_rows)
    too_large = None
    if params > MAX_PARAMS or macs > MAX_MACS:
        too_large = (f"This stack has {params:,} parameters and needs {macs:,} multiply-adds per image; this page runs stacks "
                     f"up to {MAX_PARAMS:,} parameters and {MAX_MACS:,} multiply-adds. Shapes come from PyTorch's meta device.")
        rows, error, codes, device = meta_rows, meta_error, meta_codes, "meta"
    else:
        rows, error, codes, _, _ = _forward(layers, in_channels, size, "cpu", seed)
        device = "cpu"
    message, where, hint = error or (None, None, None)
    return Stack(tuple(rows), tuple(fields(layers)), message, where, hint, device, too_large,
                 _remaining_codes(layers, codes, rows))


def reachable(layers: tuple[LayerSpec, ...], in_sizes: list[int], layer: int, unit: int) -> tuple[int, ...]:
    """Input positions (along one axis) that unit `unit` after `layer` depends on, found by following every
    conv and pool window back to the input: {o·s − p + t·d : o in the set, t = 0..k−1}, inside the input.

    Args:
        in_sizes: the spatial size along this axis of the input of each layer 0..layer.
    """
    positions = {unit}
    for j in range(layer, -1, -1):
        spec = layers[j]
        if spec.kind not in ("conv", "maxpool", "avgpool"):
            continue
        d = spec.d or 1
        before = pads_for(spec.p, spec.k, d)[0] if spec.kind == "conv" else 0
        positions = {o * spec.s - before + t * d for o in positions for t in range(spec.k)}
        positions = {q for q in positions if 0 <= q < in_sizes[j]}
    return tuple(sorted(positions))


def _probe_module(layer: LayerSpec) -> nn.Module:
    """The layer with one channel, every weight 1 and no bias, max pools as average pools and no activations:
    every path from input to output then carries a positive gradient, so ∂y/∂x ≠ 0 exactly where a path exists."""
    if layer.kind == "conv":
        conv = nn.Conv2d(1, 1, layer.k, stride=layer.s, padding=layer.p, dilation=layer.d, bias=False, device="meta",
                         dtype=torch.float64).to_empty(device="cpu")
        with torch.no_grad():
            conv.weight.fill_(1.0)
        return conv
    if layer.kind in ("maxpool", "avgpool"):
        return nn.AvgPool2d(layer.k, layer.s)
    return nn.Identity()


@dataclass(frozen=True)
class Probe:
    """Which input pixels one output unit after `layer` depends on: by the formula and by autograd."""

    layer: int
    unit: tuple[int, int]  # (row, col) of the probed unit, channel 0, near the centre
    grad: torch.Tensor  # (H, W) Σ_c |∂y/∂x| through the real stack (seeded init, eval mode, random input)
    reach: torch.Tensor  # (H, W) bool: ∂y/∂x ≠ 0 through the all-paths probe (see `_probe_module`)
    rows: tuple[int, ...]  # input rows the unit depends on, by `reachable`
    cols: tuple[int, ...]
    box: tuple[int, int, int, int]  # the field by the formula: rows r0..r1, cols c0..c1 (may reach into padding)

    @property
    def mask(self) -> torch.Tensor:
        """(H, W) bool: the formula's set of input pixels."""
        h, w = self.reach.shape
        m = torch.zeros(h, w, dtype=torch.bool)
        m[torch.tensor(self.rows, dtype=torch.long)[:, None], torch.tensor(self.cols, dtype=torch.long)] = True
        return m


def probe(layers: tuple[LayerSpec, ...], in_channels: int, size: int, layer: int, seed: int = 0) -> Probe:
    """The receptive field of the centre unit after `layer` (a layer listed in `Stack.spatial`), three ways:
    the formula's box, the set found by following the windows back, and the gradient by autograd."""
    prefix = layers[:layer + 1]
    rows, error, _, modules, x0 = _forward(prefix, in_channels, size, "cpu", seed)
    if error is not None or len(rows[-1].shape) != 4:
        raise ValueError(f"layer {layer} has no (N, C, H, W) output to probe")
    _, _, h_out, w_out = rows[-1].shape
    unit = (h_out // 2, w_out // 2)
    x = x0.clone().requires_grad_(True)
    nn.Sequential(*modules).eval()(x)[0, 0, unit[0], unit[1]].backward()
    ones = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    nn.Sequential(*[_probe_module(spec) for spec in prefix])(ones)[0, 0, unit[0], unit[1]].backward()
    in_h = [size] + [r.shape[2] for r in rows[:-1]]
    in_w = [size] + [r.shape[3] for r in rows[:-1]]
    f = fields(prefix)[-1]
    r0, c0 = f.start + unit[0] * f.jump, f.start + unit[1] * f.jump
    return Probe(layer, unit, x.grad.abs().sum(dim=1)[0], ones.grad[0, 0] > 0,
                 reachable(prefix, in_h, layer, unit[0]), reachable(prefix, in_w, layer, unit[1]),
                 (r0, r0 + f.size - 1, c0, c0 + f.size - 1))


def checks(stack: Stack, found: Probe | None) -> list[Check]:
    """Parameters and sizes by formula vs the forward pass; the receptive field by formula vs autograd."""
    ran = [r for r in stack.rows if r.shape is not None]
    out = [Check("Parameters: each layer's formula vs sum(p.numel()) (layers that differ)",
                 sum(r.params_formula for r in ran), sum(r.params for r in ran), 0,
                 error=sum(r.params_formula != r.params for r in ran))]
    spatial = [r for r in ran if len(r.shape) == 4 and r.size_formula is not None]
    if spatial:
        out.append(Check("Size after each conv/pool: formula vs forward pass (layers that differ)",
                         spatial[-1].size_formula, spatial[-1].shape[2], 0,
                         error=sum(r.size_formula != r.shape[2] or r.size_formula != r.shape[3] for r in spatial)))
    if found is not None:
        mask, reach = found.mask, found.reach
        r0, r1, c0, c1 = found.box
        inside = torch.zeros_like(mask)
        inside[max(r0, 0):r1 + 1, max(c0, 0):c1 + 1] = True
        for axis, name, taps, (lo, hi) in ((1, "rows", found.rows, (r0, r1)), (0, "columns", found.cols, (c0, c1))):
            hit = reach.any(dim=axis).nonzero()
            measured = int(hit.max() - hit.min() + 1) if len(hit) else 0
            kept = taps[-1] - taps[0] + 1 if taps else 0  # a unit over padding alone depends on no pixel
            if kept == hi - lo + 1:  # the whole r × r box is in the image, its edges are real pixels
                out.append(Check(f"Field after layer {found.layer + 1}, {name}: r by the recurrence vs ∂y/∂x ≠ 0", hi - lo + 1, measured, 0))
            else:  # clipped by the image, or the box's edge falls on padding or a gap: compare the pixels it keeps
                out.append(Check(f"Field after layer {found.layer + 1}, {name}: extent inside the image vs ∂y/∂x ≠ 0",
                                 kept, measured, 0))
        out += [
            Check("Pixels ∂y/∂x ≠ 0 outside the r × r box (recurrence)", 0, int((reach & ~inside).sum()), 0),
            Check("Pixels in the field: windows followed back vs ∂y/∂x ≠ 0 (pixels that differ)",
                  int(mask.sum()), int(reach.sum()), 0, error=int((mask != reach).sum())),
            Check("The real stack: pixels outside the field with ∂y/∂x ≠ 0", 0, int(((found.grad != 0) & ~mask).sum()), 0),
        ]
    return out


def table(stack: Stack) -> pd.DataFrame:
    """One row per layer that ran (and the one that failed): spec, module, output shape, parameters, field."""
    fields_ = stack.fields
    return pd.DataFrame({
        "layer": [r.index + 1 for r in stack.rows],
        "spec": [r.spec for r in stack.rows],
        "module": [r.code for r in stack.rows],
        "output": [str(r.shape) if r.shape is not None else "refused" for r in stack.rows],
        "params": [r.params for r in stack.rows],
        "field": [f"{fields_[r.index].size} × {fields_[r.index].size}" if fields_[r.index].size else "whole input" for r in stack.rows],
        "jump": [fields_[r.index].jump for r in stack.rows],
        "course": [fields_[r.index].course for r in stack.rows],
    })


def probe_layer(stack: Stack, wanted: int) -> int | None:
    """The layer to probe for a wanted (0-based) layer: itself if it can be probed, else the last one before it."""
    before = [i for i in stack.spatial if i <= wanted]
    return before[-1] if before else (stack.spatial[0] if stack.spatial else None)


def append(spec: str, entry: str) -> str:
    """The spec with one more entry at the end."""
    spec = (spec or "").strip().rstrip(";").strip()
    return f"{spec}; {entry}" if spec else entry


def remove_last(spec: str) -> str:
    """The spec without its last entry."""
    entries = [e.strip() for e in re.split(r"[;\n]", spec or "") if e.strip()]
    return "; ".join(entries[:-1])
