"""The shape mistakes people make most with recurrent layers, each made on purpose with real PyTorch:
the code that breaks, PyTorch's own error or warning text, and the fix with the shapes it gives.

Some mistakes raise only for some sizes: a (N, T) input with T = 1, an h0 laid out (N, D_dir·L, H) with
N = D_dir·L, or swapped batch and time with N = T all run without a word. Those cases come back with no
error and say what PyTorch silently did instead.
"""
from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

from core.rng import generator
from core.rnn_architectures import Seq2Vec
from core.rnn_shapes import RNNConfig, init_uniform_, make_rnn

ERRORS: tuple[str, ...] = ("no_feature_dim", "h0_shape", "batch_first", "squeeze_scalar", "target_broadcast", "bidirectional_linear")
LABELS: dict[str, str] = {
    "no_feature_dim": "(N, T) input without the feature dimension",
    "h0_shape": "h0 in the wrong shape",
    "batch_first": "batch_first does not match the data",
    "squeeze_scalar": "a batch of one squeezed to a scalar",
    "target_broadcast": "(N, 1) output against an (N,) target",
    "bidirectional_linear": "Linear(H, 1) after a bidirectional layer",
}
_LOCK = threading.Lock()  # warnings.catch_warnings swaps process-wide state: one capture at a time


@dataclass(frozen=True)
class ErrorDemo:
    """One mistake, made on purpose, and its fix."""

    key: str
    title: str
    wrong_code: str  # the lines that break, with this page's sizes
    error: str | None  # PyTorch's exception, "RuntimeError: ...", or None when it ran
    warnings: tuple[str, ...]  # warning texts PyTorch emitted
    outcome: str  # what the wrong code produced, or where it stopped
    explanation: str  # why, in words
    fix_code: str
    fixed_outcome: str  # the shapes (and numbers) after the fix
    fix_error: str | None  # the fix's own error, None when it runs cleanly (the tests require None)
    fix_warnings: tuple[str, ...]
    note: str | None = None  # when the demo changed a setting to make the mistake possible

    @property
    def silent(self) -> bool:
        """True when PyTorch accepted the mistake without an error or a warning."""
        return self.error is None and not self.warnings


def attempt(fn: Callable[[], object]) -> tuple[object, str | None, tuple[str, ...]]:
    """Run fn, catching PyTorch's RuntimeError/ValueError and recording every warning it emits.

    Returns:
        (value or None, "ErrorType: message" or None, warning texts).
    """
    with _LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, error = fn(), None
        except (RuntimeError, ValueError) as exc:
            value, error = None, f"{type(exc).__name__}: {exc}"
    return value, error, tuple(str(w.message) for w in caught)


def constructor(config: RNNConfig, **overrides) -> str:
    """`nn.LSTM(input_size=..., ...)` as code, for the config with `overrides`."""
    c = replace(config, **overrides)
    extra = "".join(f", {k}={getattr(c, k)}" for k in ("batch_first", "bidirectional") if getattr(c, k))
    return f"nn.{c.cell}(input_size={c.input_size}, hidden_size={c.hidden_size}, num_layers={c.num_layers}{extra})"


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _call(rnn: nn.RNNBase, x: torch.Tensor, h0: torch.Tensor | None = None):
    """rnn(x, h0), passing (h0, zeros) to an LSTM; returns (out, h_n)."""
    with torch.inference_mode():
        if h0 is None:
            out, state = rnn(x)
        else:
            out, state = rnn(x, (h0, torch.zeros_like(h0)) if isinstance(rnn, nn.LSTM) else h0)
    return out, (state[0] if isinstance(state, tuple) else state)


def _apply(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return module(x)


def _h0_call(config: RNNConfig) -> str:
    return "rnn(x, (h0, torch.zeros_like(h0)))" if config.is_lstm else "rnn(x, h0)"


def no_feature_dim(config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """A (N, T) batch of single-feature windows given to a layer that reads (N, T, 1)."""
    changed, config = config.input_size != 1, replace(config, input_size=1)
    g = generator(seed)
    rnn = init_uniform_(make_rnn(config), g)
    n, t, h = config.batch_size, config.seq_len, config.hidden_size
    x = torch.randn(n, t, generator=g)  # (N, T)
    out, error, warned = attempt(lambda: _call(rnn, x)[0])
    fixed = x.unsqueeze(-1) if config.batch_first else x.unsqueeze(-1).transpose(0, 1)
    fix_out, fix_error, fix_warned = attempt(lambda: _call(rnn, fixed)[0])
    if error is None:
        outcome = f"No error. out: {_shape(out)}, a 2-D output."
        why = (f"A 2-D input means one unbatched sequence (L, H_in) to PyTorch. With T = {t} = input_size, the "
               f"(N, T) = ({n}, {t}) batch was read as a single sequence: {n} time steps of {t} feature. The batch became time.")
    else:
        outcome = "Stopped at rnn(x)."
        why = (f"PyTorch reads a 2-D input as one unbatched sequence (L, H_in) = ({n}, {t}), so it sees {t} features "
               f"per step where the layer was built for input_size=1.")
    layout = "(N, T, 1)" if config.batch_first else "(T, N, 1)"
    fix_line = "x = x.unsqueeze(-1)" if config.batch_first else "x = x.unsqueeze(-1).transpose(0, 1)"
    return ErrorDemo(
        "no_feature_dim", LABELS["no_feature_dim"],
        f"rnn = {constructor(config)}\nx = torch.randn({n}, {t})          # (N, T): one feature per step, no last dim\nout, h_n = rnn(x)",
        error, warned, outcome, why,
        f"{fix_line:<32}  # (N, T) → {layout}\nout, h_n = rnn(x)",
        f"x: {_shape(fixed)} → out: {_shape(fix_out) if fix_out is not None else '—'}, h_n: ({config.num_directions * config.num_layers}, {n}, {h})",
        fix_error, fix_warned,
        note="This mistake comes with one feature per step, so the demo builds the layer with input_size=1." if changed else None,
    )


def h0_shape(config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """h0 laid out batch-first like x: (N, D_dir·L, H) instead of (D_dir·L, N, H)."""
    g = generator(seed)
    rnn = init_uniform_(make_rnn(config), g)
    n, layers, h = config.batch_size, config.num_directions * config.num_layers, config.hidden_size
    x = torch.randn(config.batched(n, config.seq_len, config.input_size), generator=g)
    wrong = torch.zeros(n, layers, h)
    out, error, warned = attempt(lambda: _call(rnn, x, wrong))
    right = torch.zeros(layers, n, h)
    fixed, fix_error, fix_warned = attempt(lambda: _call(rnn, x, right))
    if error is None:
        outcome = f"No error. out: {_shape(out[0])}, h_n: {_shape(out[1])}."
        why = (f"With N = {n} = D_dir·L the wrong layout has the right size, so PyTorch took sample i's row as "
               f"layer i's state. With zeros nothing shows; with a real state (carried across batches) it mixes samples and layers.")
    else:
        outcome = f"Stopped at {_h0_call(config)}."
        why = "h0 is (D_dir·num_layers, N, H) whatever batch_first says: batch_first only changes the input and the output."
    return ErrorDemo(
        "h0_shape", LABELS["h0_shape"],
        f"rnn = {constructor(config)}\nx = torch.randn{config.batched(n, config.seq_len, config.input_size)}\n"
        f"h0 = torch.zeros({n}, {layers}, {h})     # (N, D_dir·L, H): batch first, like x\nout, h_n = {_h0_call(config)}",
        error, warned, outcome, why,
        f"h0 = torch.zeros({layers}, {n}, {h})     # (D_dir·L, N, H)\nout, h_n = {_h0_call(config)}",
        f"out: {_shape(fixed[0]) if fixed else '—'}, h_n: {_shape(fixed[1]) if fixed else '—'}",
        fix_error, fix_warned,
    )


def batch_first(config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """Data laid out the other way from what the layer was built to read."""
    g = generator(seed)
    rnn = init_uniform_(make_rnn(config), g)
    n, t, d = config.batch_size, config.seq_len, config.input_size
    layers, h = config.num_directions * config.num_layers, config.hidden_size
    wrong_layout = (t, n, d) if config.batch_first else (n, t, d)
    x = torch.randn(wrong_layout, generator=g)
    h0 = torch.zeros(layers, n, h)
    out, error, warned = attempt(lambda: _call(rnn, x, h0))
    fixed_x = x.transpose(0, 1)
    fixed, fix_error, fix_warned = attempt(lambda: _call(rnn, fixed_x, h0))
    expects, given = ("(N, T, D)", "(T, N, D)") if config.batch_first else ("(T, N, D)", "(N, T, D)")
    if error is None:
        outcome = f"No error. out: {_shape(out[0])}."
        why = (f"With N = T = {n} the swapped layout fits, so PyTorch read time as batch: each 'sequence' it ran "
               "was made of one time step from every sample.")
    else:
        outcome = f"Stopped at {_h0_call(config)}."
        why = (f"The layer reads {expects} (batch_first={config.batch_first}) and got {given}, so it took the batch "
               f"size from the wrong dimension: it expected h0 for a batch of T = {t}.")
    return ErrorDemo(
        "batch_first", LABELS["batch_first"],
        f"rnn = {constructor(config)}\nx = torch.randn{wrong_layout}       # {given}: the other layout\n"
        f"h0 = torch.zeros({layers}, {n}, {h})\nout, h_n = {_h0_call(config)}",
        error, warned, outcome, why,
        f"x = x.transpose(0, 1)            # {given} → {expects}\nout, h_n = {_h0_call(config)}\n"
        f"# or build the layer with batch_first={not config.batch_first} to match the data",
        f"x: {_shape(fixed_x)} → out: {_shape(fixed[0]) if fixed else '—'}",
        fix_error, fix_warned,
    )


def _seq2vec(config: RNNConfig, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(y_hat (batch, 1), y (batch,)) from a seeded Seq2Vec model, as the course's forecaster."""
    g = generator(seed)
    with torch.device("meta"):
        model = Seq2Vec(make_rnn(config))
    init_uniform_(model.to_empty(device="cpu"), g)
    x = torch.randn(config.batched(batch, config.seq_len, config.input_size), generator=g)
    y = torch.randn(batch, generator=g)
    with torch.inference_mode():
        return model(x), y


def _mse(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    with torch.inference_mode():
        return float(nn.MSELoss()(y_hat, y))


def squeeze_scalar(config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """`.squeeze()` on a (1, 1) prediction removes the batch dimension too, leaving a 0-d tensor."""
    y_hat, y = _seq2vec(config, 1, seed)
    loss, error, warned = attempt(lambda: _mse(y_hat.squeeze(), y))
    fixed, fix_error, fix_warned = attempt(lambda: _mse(y_hat.squeeze(-1), y))
    x_shape = config.batched(1, config.seq_len, config.input_size)
    return ErrorDemo(
        "squeeze_scalar", LABELS["squeeze_scalar"],
        f"model = Seq2Vec({constructor(config)})\nx, y = torch.randn{x_shape}, torch.randn(1)   # the last batch: one sample\n"
        "y_hat = model(x).squeeze()        # (1, 1) → (): the batch dimension is gone too\nloss = nn.MSELoss()(y_hat, y)",
        error, warned,
        f"y_hat: {_shape(y_hat.squeeze())}, y: {_shape(y)}; loss = {loss:.6f}." if loss is not None else "Stopped at the loss.",
        "squeeze() drops every dimension of size 1. A full batch (N, 1) → (N,) works, but the last batch of an epoch "
        "can hold one sample: (1, 1) → (), a scalar. This loss still comes out right, but the shapes disagree and "
        "torch.cat of such predictions across batches fails on the 0-d tensor.",
        "y_hat = model(x).squeeze(-1)      # (1, 1) → (1,): only the output dimension\nloss = nn.MSELoss()(y_hat, y)",
        f"y_hat: {_shape(y_hat.squeeze(-1))}, y: {_shape(y)}; loss = {fixed:.6f}" if fixed is not None else "—",
        fix_error, fix_warned,
        note="The mistake needs a batch of one, so the demo uses N = 1." if config.batch_size != 1 else None,
    )


def target_broadcast(config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """A (N, 1) prediction against an (N,) target: the loss broadcasts to (N, N)."""
    n = config.batch_size
    y_hat, y = _seq2vec(config, n, seed)
    loss, error, warned = attempt(lambda: _mse(y_hat, y))
    fixed, fix_error, fix_warned = attempt(lambda: _mse(y_hat.squeeze(-1), y))
    wrong_text = f"loss = {loss:.6f}, the mean of (ŷ_i − y_j)² over all {n}×{n} pairs (i, j)." if loss is not None else "—"
    return ErrorDemo(
        "target_broadcast", LABELS["target_broadcast"],
        f"model = Seq2Vec({constructor(config)})\nx, y = torch.randn{config.batched(n, config.seq_len, config.input_size)}, torch.randn({n})\n"
        f"y_hat = model(x)                  # ({n}, 1)\nloss = nn.MSELoss()(y_hat, y)     # ({n}, 1) against ({n},)",
        error, warned, wrong_text,
        f"(N, 1) − (N,) broadcasts to (N, N): every prediction is compared with every target. "
        + ("With N = 1 that is the same single pair, so only the warning tells." if n == 1 else "The loss is wrong and the model trains towards the batch mean."),
        "y_hat = model(x).squeeze(-1)      # (N, 1) → (N,)\nloss = nn.MSELoss()(y_hat, y)",
        f"y_hat: ({n},), y: ({n},); loss = {fixed:.6f}" if fixed is not None else "—",
        fix_error, fix_warned,
    )


def bidirectional_linear(config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """nn.Linear(H, 1) on the last step of a bidirectional layer, which has 2H features."""
    changed, config = not config.bidirectional, replace(config, bidirectional=True)
    g = generator(seed)
    rnn = init_uniform_(make_rnn(config), g)
    n, t, d, h = config.batch_size, config.seq_len, config.input_size, config.hidden_size
    x = torch.randn(config.batched(n, t, d), generator=g)
    out, _ = _call(rnn, x)
    last = out[:, -1, :] if config.batch_first else out[-1]
    with torch.device("meta"):
        fc_wrong, fc_right = nn.Linear(h, 1), nn.Linear(2 * h, 1)
    fc_wrong, fc_right = (init_uniform_(m.to_empty(device="cpu"), g) for m in (fc_wrong, fc_right))
    _, error, warned = attempt(lambda: _apply(fc_wrong, last))
    fixed, fix_error, fix_warned = attempt(lambda: _apply(fc_right, last))
    pick = "out[:, -1, :]" if config.batch_first else "out[-1]"
    return ErrorDemo(
        "bidirectional_linear", LABELS["bidirectional_linear"],
        f"rnn = {constructor(config)}\nfc = nn.Linear({h}, 1)\nout, h_n = rnn(torch.randn{config.batched(n, t, d)})   # out: {_shape(out)}\n"
        f"y_hat = fc({pick})             # {_shape(last)} into Linear({h}, 1)",
        error, warned, f"Stopped at fc: {pick} is {_shape(last)}." if error else "No error.",
        f"A bidirectional layer puts both directions side by side: out has D_dir·H = {2 * h} features per step, not H = {h}.",
        f"fc = nn.Linear(2 * {h}, 1)          # D_dir·H inputs\ny_hat = fc({pick})\n"
        "# better: the backward direction's last state is at t = 1, see final_features in Sequence-to-vector",
        f"y_hat: {_shape(fixed) if fixed is not None else '—'}",
        fix_error, fix_warned,
        note="This mistake needs a bidirectional layer, so the demo turns bidirectional on." if changed else None,
    )


DEMOS: dict[str, Callable[[RNNConfig, int], ErrorDemo]] = {
    "no_feature_dim": no_feature_dim, "h0_shape": h0_shape, "batch_first": batch_first,
    "squeeze_scalar": squeeze_scalar, "target_broadcast": target_broadcast, "bidirectional_linear": bidirectional_linear,
}


def demo(key: str, config: RNNConfig, seed: int = 0) -> ErrorDemo:
    """Make the mistake `key` with the page's settings."""
    if key not in DEMOS:
        raise ValueError(f"unknown error demo {key!r}; choose from {', '.join(ERRORS)}")
    return DEMOS[key](config, seed)
