"""A CNN written in the layer-spec language (core.layer_spec), built into modules, run once on one image.

The stack is first run on PyTorch's meta device (shapes, no arithmetic) to count parameters and
multiply-adds; if it is small enough it is then built and run on the CPU, which gives the real shapes
and PyTorch's real error messages. Weights are drawn with PyTorch's default init ranges from a
`torch.Generator`, never the global RNG. The receptive field of a unit is in core.receptive_field.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from core.checks import Check
from core.conv_arithmetic import course_output_size, empty_output_hint, output_size, pads_for
from core.layer_spec import DEFAULT_SPEC, USAGE, LayerSpec, Parsed, append, constructor, parse, remove_last
from core.receptive_field import Field, Probe, fields, measure
from core.receptive_field import checks as field_checks
from core.rng import generator

__all__ = [  # the page's API; the spec language and the field are re-exported from their modules
    "DEFAULT_SPEC", "USAGE", "LayerSpec", "Parsed", "append", "parse", "remove_last", "Field", "Probe",
    "Row", "Stack", "run", "probe", "probe_layer", "checks", "table", "init_", "module_for", "param_formula",
]
MAX_PARAMS = 20_000_000  # larger stacks are only run on the meta device
MAX_MACS = 300_000_000  # multiply-adds of one forward pass


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


def probe(layers: tuple[LayerSpec, ...], in_channels: int, size: int, layer: int, seed: int = 0) -> Probe:
    """The receptive field of the centre unit after `layer` (a layer listed in `Stack.spatial`), measured on
    the same seeded stack `run` builds (see core.receptive_field)."""
    prefix = layers[:layer + 1]
    rows, error, _, modules, x0 = _forward(prefix, in_channels, size, "cpu", seed)
    if error is not None or len(rows[-1].shape) != 4:
        raise ValueError(f"layer {layer} has no (N, C, H, W) output to probe")
    in_sizes = [(size, size)] + [(r.shape[2], r.shape[3]) for r in rows[:-1]]
    return measure(prefix, modules, x0, rows[-1].shape, in_sizes, layer)


def checks(stack: Stack, found: Probe | None) -> list[Check]:
    """Parameters and sizes by formula vs the forward pass; the receptive field by formula vs autograd."""
    ran = [r for r in stack.rows if r.shape is not None]
    out = [Check("Parameters in all layers: formula vs sum(p.numel()); difference = layers that differ",
                 sum(r.params_formula for r in ran), sum(r.params for r in ran), 0,
                 error=sum(r.params_formula != r.params for r in ran))]
    spatial = [r for r in ran if len(r.shape) == 4 and r.size_formula is not None]
    if spatial:
        out.append(Check("Size after the last conv/pool: formula vs forward pass; difference = layers that differ",
                         spatial[-1].size_formula, spatial[-1].shape[2], 0,
                         error=sum(r.size_formula != r.shape[2] or r.size_formula != r.shape[3] for r in spatial)))
    if found is not None:
        out += field_checks(found)
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


