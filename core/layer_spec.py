"""The one-line language the CNN builder reads: one layer per entry, separated by ";" (or new lines).

The course's `Net` (§5.9) is
    conv 32 3 p1; elu; maxpool 2; conv 64 3 p1; elu; maxpool 2; flatten; linear 16384 10
Input channels (and, for `linear OUT`, in_features) are not written: each layer takes them from the tensor
that reaches it, as a forward pass finds them. `linear IN OUT` states in_features, and PyTorch refuses
when they differ. Every entry that cannot be read gets its own message with the form to write.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SPEC = "conv 32 3 p1; elu; maxpool 2; conv 64 3 p1; elu; maxpool 2; flatten; linear 16384 10"
MAX_LAYERS = 24
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
    spec = (spec or "").replace("`", "'")  # entries are quoted in messages as inline code
    entries = [e.strip() for e in re.split(r"[;\n]", spec) if e.strip()]
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


def append(spec: str, entry: str) -> str:
    """The spec with one more entry at the end."""
    spec = (spec or "").strip().rstrip(";").strip()
    return f"{spec}; {entry}" if spec else entry


def remove_last(spec: str) -> str:
    """The spec without its last entry."""
    entries = [e.strip() for e in re.split(r"[;\n]", spec or "") if e.strip()]
    return "; ".join(entries[:-1])
