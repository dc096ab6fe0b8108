"""The course's four recurrent architectures (§8.4) as minimal PyTorch modules, and the shape of every
tensor that passes through them in one forward pass.

The module classes use only torch, so the page can show their source and the PyTorch-code panel can
paste it into a standalone script. Each one wraps an `nn.RNN` / `nn.LSTM` / `nn.GRU` built from the
page's settings and ends in `nn.Linear(·, output_size)`.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from core.rng import generator
from core.rnn_shapes import RNNConfig, init_uniform_, make_rnn

ARCHITECTURES: tuple[str, ...] = ("seq2seq", "seq2vec", "vec2seq", "encdec")
LABELS: dict[str, str] = {
    "seq2seq": "Sequence-to-sequence",
    "seq2vec": "Sequence-to-vector",
    "vec2seq": "Vector-to-sequence",
    "encdec": "Encoder–decoder",
}
USES: dict[str, str] = {
    "seq2seq": "every step's output: one prediction per time step (tagging, real-time recognition).",
    "seq2vec": "only the last step's state: one prediction per sequence (forecasting the next value, sentiment).",
    "vec2seq": "one vector in at t = 1, zeros after it, and every step's output (generation from a topic vector).",
    "encdec": "the encoder's final state only, as the decoder's initial state; then every decoder output (translation).",
}


def final_features(out: torch.Tensor, rnn: nn.RNNBase) -> torch.Tensor:
    """Each direction's last state, read from `out`: (N, D_dir·H).

    Forward: the last time step, out[:, -1, :H]. Backward: it ends at t = 1, so out[:, 0, H:].
    """
    out = out if rnn.batch_first else out.transpose(0, 1)  # (N, T, D_dir·H)
    if not rnn.bidirectional:
        return out[:, -1, :]  # (N, H), equal to h_n[-1]
    hidden = rnn.hidden_size
    return torch.cat([out[:, -1, :hidden], out[:, 0, hidden:]], dim=1)  # (N, 2H) = cat(h_n[-2], h_n[-1])


def merge_directions(state: torch.Tensor, bidirectional: bool) -> torch.Tensor:
    """(D_dir·L, N, H) → (L, N, D_dir·H): both directions of a layer side by side, for a one-way decoder."""
    if not bidirectional:
        return state
    layers2, batch, hidden = state.shape
    return state.view(layers2 // 2, 2, batch, hidden).permute(0, 2, 1, 3).reshape(layers2 // 2, batch, 2 * hidden)


class Seq2Seq(nn.Module):
    """Sequence-to-sequence: a prediction at every time step."""

    def __init__(self, rnn: nn.RNNBase, output_size: int = 1):
        super().__init__()
        self.rnn = rnn
        self.fc = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), output_size)

    def forward(self, x):  # x: (N, T, D), or (T, N, D) without batch_first
        out, _ = self.rnn(x)  # (N, T, D_dir·H): the top layer's h_t at every step
        return self.fc(out)  # (N, T, output_size): Linear acts on the last dimension


class Seq2Vec(nn.Module):
    """Sequence-to-vector: one prediction per sequence, from the last state."""

    def __init__(self, rnn: nn.RNNBase, output_size: int = 1):
        super().__init__()
        self.rnn = rnn
        self.fc = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), output_size)

    def forward(self, x):  # x: (N, T, D), or (T, N, D) without batch_first
        out, _ = self.rnn(x)  # (N, T, D_dir·H)
        last = final_features(out, self.rnn)  # (N, D_dir·H): out[:, -1, :] when one-directional
        return self.fc(last)  # (N, output_size)


class Vec2Seq(nn.Module):
    """Vector-to-sequence: one vector in at t = 1, zeros after it, a prediction at every step."""

    def __init__(self, rnn: nn.RNNBase, seq_len: int, output_size: int = 1):
        super().__init__()
        self.rnn, self.seq_len = rnn, seq_len
        self.fc = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), output_size)

    def forward(self, v):  # v: (N, D), one vector per sample
        x = v.new_zeros(v.size(0), self.seq_len, v.size(1))  # (N, T, D) of zeros ...
        x[:, 0, :] = v  # ... with the vector at t = 1 (course §8.4)
        if not self.rnn.batch_first:
            x = x.transpose(0, 1)  # (T, N, D)
        out, _ = self.rnn(x)  # (N, T, D_dir·H)
        return self.fc(out)  # (N, T, output_size)


class EncoderDecoder(nn.Module):
    """Encoder–decoder: the encoder's final state c starts a decoder that writes out_len steps."""

    def __init__(self, encoder: nn.RNNBase, out_len: int, output_size: int = 1):
        super().__init__()
        self.encoder, self.out_len = encoder, out_len
        width = encoder.hidden_size * (2 if encoder.bidirectional else 1)
        # The same kind of cell, one-directional, as wide as both encoder directions together.
        self.decoder = type(encoder)(1, width, encoder.num_layers, batch_first=encoder.batch_first)
        self.fc = nn.Linear(width, output_size)

    def forward(self, x):  # x: (N, T, D), or (T, N, D) without batch_first
        _, state = self.encoder(x)  # h_n: (D_dir·L, N, H); an LSTM also returns c_n
        two_way = self.encoder.bidirectional
        if isinstance(state, tuple):
            context = tuple(merge_directions(s, two_way) for s in state)  # (L, N, D_dir·H) each
            batch = context[0].size(1)
        else:
            context = merge_directions(state, two_way)  # (L, N, D_dir·H)
            batch = context.size(1)
        steps = (batch, self.out_len, 1) if self.decoder.batch_first else (self.out_len, batch, 1)
        out, _ = self.decoder(x.new_zeros(steps), context)  # zeros in: the state carries everything
        return self.fc(out)  # (N, out_len, output_size)


CLASSES: dict[str, type[nn.Module]] = {"seq2seq": Seq2Seq, "seq2vec": Seq2Vec, "vec2seq": Vec2Seq, "encdec": EncoderDecoder}
#: Helper functions a class calls, pasted with it into the code panel.
HELPERS: dict[str, tuple] = {"seq2vec": (final_features,), "encdec": (merge_directions,)}


def source(arch: str) -> str:
    """The module's source code, with the helpers it calls."""
    return "\n\n".join(inspect.getsource(obj) for obj in (*HELPERS.get(arch, ()), CLASSES[arch]))


def build(arch: str, config: RNNConfig, out_len: int = 24, seed: int = 0) -> tuple[nn.Module, torch.Tensor]:
    """The seeded model and an input batch for it.

    Returns:
        (model, x): x is (N, D) for vec2seq, else (N, T, D) or (T, N, D) as the config lays it out.
    """
    if arch not in CLASSES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")
    if out_len < 1:
        raise ValueError("out_len must be at least 1")
    rnn = make_rnn(config)
    with torch.device("meta"):
        model = {
            "seq2seq": lambda: Seq2Seq(rnn),
            "seq2vec": lambda: Seq2Vec(rnn),
            "vec2seq": lambda: Vec2Seq(rnn, config.seq_len),
            "encdec": lambda: EncoderDecoder(rnn, out_len),
        }[arch]()
    g = generator(seed)
    init_uniform_(model.to_empty(device="cpu"), g)
    n, t, d = config.batch_size, config.seq_len, config.input_size
    shape = (n, d) if arch == "vec2seq" else config.batched(n, t, d)
    return model, torch.randn(shape, generator=g)


def _flatten(value, names: tuple[str, ...]) -> list[tuple[str, tuple[int, ...]]]:
    tensors = []

    def walk(v):
        if isinstance(v, torch.Tensor):
            tensors.append(tuple(v.shape))
        elif isinstance(v, (tuple, list)):
            for item in v:
                walk(item)

    walk(value)
    return [(names[i] if i < len(names) else f"#{i}", s) for i, s in enumerate(tensors)]


_IN_NAMES = {nn.LSTM: ("input", "h0", "c0")}
_OUT_NAMES = {nn.LSTM: ("output", "h_n", "c_n"), nn.RNN: ("output", "h_n"), nn.GRU: ("output", "h_n")}


@dataclass(frozen=True)
class ArchitectureTrace:
    """One forward pass through an architecture: every tensor in and out of every layer."""

    arch: str
    table: pd.DataFrame  # columns: step, tensor, shape (one row per tensor, in execution order)
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def trace(arch: str, config: RNNConfig, out_len: int = 24, seed: int = 0) -> ArchitectureTrace:
    """Run the architecture once and record the shapes going in and out of each layer (forward hooks)."""
    model, x = build(arch, config, out_len, seed)
    rows: list[tuple[str, str, str]] = [("model input", "x", str(tuple(x.shape)))]

    def hook(name: str, module: nn.Module):
        def record(_, inputs, output):
            kind = type(module)
            title = f"{name} (nn.{kind.__name__})"
            for tensor, shape in _flatten(inputs, _IN_NAMES.get(kind, ("input", "h0"))):
                rows.append((f"{title} in", tensor, str(shape)))
            for tensor, shape in _flatten(output, _OUT_NAMES.get(kind, ("output",))):
                rows.append((f"{title} out", tensor, str(shape)))
        return record

    handles = [m.register_forward_hook(hook(n, m)) for n, m in model.named_children()]
    try:
        with torch.inference_mode():
            y = model(x)
    finally:
        for h in handles:
            h.remove()
    rows.append(("model output", "y", str(tuple(y.shape))))
    return ArchitectureTrace(arch, pd.DataFrame(rows, columns=["step", "tensor", "shape"]), tuple(x.shape), tuple(y.shape))


def expected_output_shape(arch: str, config: RNNConfig, out_len: int = 24, output_size: int = 1) -> tuple[int, ...]:
    """The model output's shape by formula: (N, 1) for seq2vec, else per step, laid out like the input."""
    n, t = config.batch_size, config.seq_len
    if arch == "seq2vec":
        return (n, output_size)
    return config.batched(n, out_len if arch == "encdec" else t, output_size)
