"""The Backpropagation page's own promises: its script reproduces its numbers, every check passes, the
zero_grad / forward / backward / step buttons do what PyTorch does (accumulation included), and a link
restores the view."""
from __future__ import annotations

import pytest
import torch
from torch import nn, optim

from core.data import water_frames
from core.models import WaterNet, init_parameters
from core.rng import generator
from tests.pages.harness import open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "backprop")
LINK = {"bp_sample": "1797", "bp_batch": "3", "bp_hidden1": "12", "bp_hidden2": "6", "bp_loss": "MSE", "bp_lr": "0.5",
        "bp_seed": "42", "bp_layer": "fc2"}


def frame(at, column: str):
    found = next(d.value for d in at.dataframe if column in d.value.columns)
    return found.sort_values("#").reset_index(drop=True) if "#" in found.columns else found  # the log shows newest first


def script(at) -> str:
    return next(c.value for c in at.code if c.language == "python")


def metrics(at) -> dict[str, float]:
    return {m.label: float(m.value) for m in at.metric}


def fresh(sample: int, batch: int, hidden1: int, hidden2: int, seed: int, loss: nn.Module):
    """The course's Net on the page's rows, built here from core.models and the bundled CSV."""
    df = water_frames()[0]
    rows = [(sample + i) % len(df) for i in range(batch)]
    net = init_parameters(WaterNet(9, hidden1, hidden2), "default", generator(seed))
    x = torch.tensor(df.iloc[rows, :-1].to_numpy(), dtype=torch.float32).contiguous()
    y = torch.tensor(df.iloc[rows, -1].to_numpy(), dtype=torch.float32).view(-1, 1)
    return net, x, y, loss


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    out = run_snippet(script(at), tmp_path, "backprop.py")
    shown = metrics(at)
    assert float(out["loss"]["MSE"]) == pytest.approx(shown["nn.MSELoss"], rel=1e-5)
    assert float(out["losses"]["BCE"]) == pytest.approx(shown["nn.BCELoss"], rel=1e-5)
    assert float(out["losses"]["BCEWithLogits"]) == pytest.approx(shown["nn.BCEWithLogitsLoss(z⁽³⁾)"], rel=1e-5)
    table = frame(at, "‖weight.grad‖")
    assert list(table["W shape"]) == ["12×9", "6×12", "1×6"]
    for l in range(3):
        assert float(out[f"fc{l + 1}"]["grad_norm"]) == pytest.approx(table["‖weight.grad‖"][l], rel=1e-5)
        assert float(out[f"fc{l + 1}"]["weight_error"]) < 1e-6 and float(out[f"fc{l + 1}"]["bias_error"]) < 1e-6
    assert float(out["step"]["sgd_error"]) < 1e-6 and float(out["accumulate"]["ratio"]) == pytest.approx(2.0)
    assert float(out["saturated_BCELoss"]["loss"]) == 100 and float(out["saturated_BCELoss"]["grad"]) == 0
    assert float(out["saturated_BCEWithLogitsLoss"]["grad"]) == pytest.approx(1.0)
    checks = frame(at, "result")
    assert len(checks) >= 10 and (checks.result == "pass").all()


def test_cross_entropy_variant_reproduces_the_page(tmp_path):
    at = open_page(PAGE, {"bp_loss": "Cross-entropy (3 classes)", "bp_batch": "4", "bp_sample": "11"})
    assert not at.exception
    shown = metrics(at)
    out = run_snippet(script(at), tmp_path, "backprop.py")
    assert float(out["loss"]["CE"]) == pytest.approx(shown["nn.CrossEntropyLoss"], rel=1e-5)
    assert shown["Cross-entropy (3 classes): formula"] == pytest.approx(shown["nn.CrossEntropyLoss"], rel=1e-5)
    table = frame(at, "‖weight.grad‖")
    assert list(table["W shape"]) == ["16×8", "8×16", "3×8"]
    assert float(out["fc3"]["grad_norm"]) == pytest.approx(table["‖weight.grad‖"][2], rel=1e-5)
    assert (frame(at, "result").result == "pass").all()


def press(at, action: str):
    at.button(key=f"bp_{action}").click().run()
    assert not at.exception
    return at


def test_buttons_behave_like_pytorch_and_gradients_accumulate():
    sample, batch, lr = 40, 2, 0.5
    at = open_page(PAGE, {"bp_sample": str(sample), "bp_batch": str(batch), "bp_lr": str(lr), "bp_layer": "fc1"})
    press(at, "backward")
    assert any("press forward first" in e.value for e in at.error)

    press(at, "forward")
    press(at, "backward")
    press(at, "forward")
    press(at, "backward")
    assert any("sum of 2" in i.value and "exactly twice" in i.value for i in at.info)

    # The same calls on a fresh model: two passes without zero_grad add up to 2 × one pass.
    net, x, y, loss = fresh(sample, batch, 16, 8, 0, nn.BCELoss())
    loss(net(x), y).backward()
    one_pass = {n: p.grad.clone() for n, p in net.named_parameters()}
    loss(net(x), y).backward()
    lab = at.session_state["_bp_lab"]
    for name, p in lab.net.named_parameters():
        assert torch.equal(p.grad, dict(net.named_parameters())[name].grad), name
        assert torch.allclose(p.grad, 2 * one_pass[name], rtol=0, atol=0), name
    log = frame(at, "backward passes in .grad")
    assert list(log["pressed"]) == ["start", "backward", "forward", "backward", "forward", "backward"]
    assert list(log["backward passes in .grad"]) == [0, 0, 0, 1, 1, 2]
    norm = one_pass["fc1.weight"].double().norm().item()
    assert float(log["‖fc1.weight.grad‖"][3]) == pytest.approx(norm, rel=1e-5)
    assert float(log["‖fc1.weight.grad‖"][5]) == pytest.approx(2 * norm, rel=1e-5)

    # backward again on the same forward: PyTorch's own error, shown in the page
    press(at, "backward")
    assert any("RuntimeError" in e.value and "second time" in e.value for e in at.error)

    # step: θ ← θ − η·(the accumulated .grad), as optim.SGD does on the fresh model
    press(at, "step")
    optim.SGD(net.parameters(), lr=lr).step()
    for name, p in at.session_state["_bp_lab"].net.named_parameters():
        assert torch.equal(p.detach(), dict(net.named_parameters())[name].detach()), name

    press(at, "zero_grad")
    log = frame(at, "backward passes in .grad")
    assert log["‖fc1.weight.grad‖"].iloc[-1] == "None" and log["backward passes in .grad"].iloc[-1] == 0
    press(at, "forward")
    press(at, "backward")
    net.zero_grad()
    loss(net(x), y).backward()
    for name, p in at.session_state["_bp_lab"].net.named_parameters():
        assert torch.equal(p.grad, dict(net.named_parameters())[name].grad), name

    shown = next(d.value for d in at.dataframe if "pressed" in d.value.columns)
    assert shown["#"].iloc[0] == shown["#"].max() and shown["pressed"].iloc[0] == "backward"  # newest first

    press(at, "reset")
    assert list(frame(at, "backward passes in .grad")["pressed"]) == ["start"]


def test_changing_a_model_control_starts_a_fresh_loop():
    at = open_page(PAGE)
    press(at, "forward")
    press(at, "backward")
    assert len(frame(at, "backward passes in .grad")) == 3
    at.radio(key="bp_layer").set_value("fc2").run()  # only what is watched: the presses stay
    assert len(frame(at, "backward passes in .grad")) == 3
    at.slider(key="bp_hidden1").set_value(5).run()
    assert not at.exception
    log = frame(at, "backward passes in .grad")
    assert list(log["pressed"]) == ["start"]
    assert at.session_state["_bp_lab"].net.fc1.weight.shape == (5, 9)


def test_link_restores_the_view():
    at = open_page(PAGE, LINK)
    assert not at.exception and not at.warning
    assert at.slider(key="bp_sample").value == 1797 and at.slider(key="bp_batch").value == 3
    assert at.slider(key="bp_hidden1").value == 12 and at.slider(key="bp_hidden2").value == 6
    assert at.radio(key="bp_loss").value == "MSE" and at.radio(key="bp_layer").value == "fc2"
    assert at.select_slider(key="bp_lr").value == "0.5" and at.number_input(key="bp_seed").value == 42
    net, x, y, loss = fresh(1797, 3, 12, 6, 42, nn.MSELoss())
    assert metrics(at)["nn.MSELoss"] == pytest.approx(float(loss(net(x), y).detach()), rel=1e-5)
    assert "θ − η·.grad" not in " ".join(i.value for i in at.info)  # nothing pressed yet
    code = script(at)
    assert "lr=0.5" in code and "manual_seed(42)" in code and "Net()" in code and "hidden1=12" in code
