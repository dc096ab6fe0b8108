"""The CNN builder against PyTorch: the spec parser, the forward pass, PyTorch's errors, the receptive field
by formula against autograd, and the exported nn.Module."""
import random

import pytest
import torch
from torch import nn

from core import cnn_builder as cnn
from core.snippets import cnn_builder as snippet


def stack(spec, c=3, size=64):
    parsed = cnn.parse(spec)
    assert not parsed.errors, parsed.errors
    return parsed.layers, cnn.run(parsed.layers, c, size)


def test_the_course_net():
    _, s = stack(cnn.DEFAULT_SPEC)
    assert s.error is None and s.device == "cpu"
    assert [r.shape for r in s.rows] == [(1, 32, 64, 64), (1, 32, 64, 64), (1, 32, 32, 32), (1, 64, 32, 32),
                                         (1, 64, 32, 32), (1, 64, 16, 16), (1, 16384), (1, 10)]  # the course's comments
    assert s.total_params == (32 * 3 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 16 * 16 * 10 + 10)
    assert [f.size for f in s.fields] == [3, 3, 4, 8, 8, 10, 10, None]
    assert s.codes[0] == "nn.Conv2d(3, 32, kernel_size=3, padding=1)" and s.codes[-1] == "nn.Linear(16384, 10)"


@pytest.mark.parametrize("spec", [cnn.DEFAULT_SPEC, "conv 8 5 same s1 d2; bn; relu; avgpool 3 s2; dropout 0.25; flatten; linear 7",
                                  "Conv2d 4 3 p=2 s=2;\nMaxPool2d 2 s=1\nBatchNorm2d; ELU; fc 20 3"])
def test_canonical_text_round_trips(spec):
    layers = cnn.parse(spec).layers
    assert cnn.parse("; ".join(layer.text for layer in layers)).layers == layers


@pytest.mark.parametrize("spec,message", [
    ("conv 32", "Layer 1, `conv 32`: conv needs OUT channels and kernel size K"),
    ("relu; pool 2", "Layer 2, `pool 2`: `pool` is not a layer"),
    ("conv 32 3 p1 q2", "`q2` is not an option here"),
    ("conv 32 13", "K must be from 1 to 11, not 13"),
    ("conv 0 3", "OUT must be from 1 to 512, not 0"),
    ("maxpool 2 s9", "stride must be from 1 to 8, not 9"),
    ("dropout 1.5", "the dropout probability must be in [0, 1)"),
    ("linear 1 2 3", "linear needs OUT, or IN and OUT"),
    ("relu 3", "relu takes no numbers"),
    ("conv 32 3 p=-1", "`p=-1` is not an option here"),
    ("conv 32 3 <script>", "not an option"),
    ("", "The stack is empty"),
    ("; ;", "The stack is empty"),
    ("relu; " * 25, "25 layers"),
])
def test_bad_specs_say_which_layer_and_what_to_write(spec, message):
    errors = cnn.parse(spec).errors
    assert errors and any(message in e for e in errors), errors


def test_every_bad_entry_gets_its_own_message():
    errors = cnn.parse("conv 32; relu; maxpool; foo; linear").errors
    assert [e.split(",")[0] for e in errors] == ["Layer 1", "Layer 3", "Layer 4", "Layer 5"]


def test_linear_mismatch_shows_pytorchs_error_and_the_fitting_value():
    _, s = stack(cnn.DEFAULT_SPEC, size=32)
    assert s.error == "mat1 and mat2 shapes cannot be multiplied (1x4096 and 16384x10)"
    assert s.error_layer == 7 and "`linear 4096 10`" in s.hint and "`linear 10`" in s.hint
    assert s.rows[-1].shape is None and len(s.rows) == 8


def test_auto_linear_fits_any_input():
    _, s = stack(cnn.DEFAULT_SPEC.replace("linear 16384 10", "linear 10"), c=1, size=40)
    assert s.error is None and s.rows[-1].shape == (1, 10) and s.codes[-1] == "nn.Linear(6400, 10)"  # 64 · 10 · 10


@pytest.mark.parametrize("spec,error,hint", [
    ("conv 8 3; linear 100 10", "mat1 and mat2 shapes cannot be multiplied", "add `flatten`"),
    ("conv 8 3; flatten; conv 4 3", "Expected 3D (unbatched) or 4D (batched) input to conv2d", "move it before `flatten`"),
    ("flatten; bn", "expected 4D input (got 2D input)", "move it before `flatten`"),
    ("conv 8 11; conv 8 11", "Kernel size can't be greater than actual input size", "kernel spans"),
    ("maxpool 8; maxpool 8", "Output size is too small", "window does not fit"),
    ("conv 8 3 same s2", "padding='same' is not supported for strided convolutions", "stride to 1"),
])
def test_pytorch_errors_come_with_a_way_out(spec, error, hint):
    _, s = stack(spec, size=16)
    assert error in s.error and hint in s.hint


def test_too_large_stacks_are_sized_on_the_meta_device_only():
    _, s = stack("conv 512 11; conv 512 11; conv 512 11", size=128)
    assert s.device == "meta" and "multiply-adds" in s.too_large and s.spatial
    assert s.rows[0].params == 512 * 3 * 121 + 512


def test_runs_are_deterministic_and_leave_the_global_rng_alone():
    layers = cnn.parse(cnn.DEFAULT_SPEC).layers
    before = torch.random.get_rng_state()
    a = cnn.probe(layers, 3, 32, 3, seed=4)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(a.grad, cnn.probe(layers, 3, 32, 3, seed=4).grad)
    assert not torch.equal(a.grad, cnn.probe(layers, 3, 32, 3, seed=5).grad)


def test_default_init_ranges_match_pytorch():
    conv = cnn.init_(nn.Conv2d(16, 4, 3), torch.Generator().manual_seed(0))
    bound = 1 / (16 * 9) ** 0.5
    assert conv.weight.abs().max() <= bound and conv.bias.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound


@pytest.mark.parametrize("k,layers", [(3, 1), (3, 4), (5, 3), (7, 2)])
def test_course_receptive_field_is_the_stride_1_case(k, layers):
    specs, s = stack("; ".join([f"conv 4 {k} same"] * layers), size=48)
    assert s.fields[-1].size == s.fields[-1].course == 1 + layers * (k - 1)
    found = cnn.probe(specs, 3, 48, layers - 1)
    assert all(c.passed for c in cnn.checks(s, found))
    assert int(found.reach.sum()) == (1 + layers * (k - 1)) ** 2


def test_pooling_multiplies_the_growth():
    _, s = stack("conv 4 3 p1; maxpool 2; conv 4 3 p1; maxpool 2; conv 4 3 p1", size=64)
    assert [f.size for f in s.fields] == [3, 4, 8, 10, 18]
    assert s.fields[-1].course == 7 and s.fields[-1].jump == 4


SPECS = [
    cnn.DEFAULT_SPEC,
    "conv 4 3 d2; conv 4 3 d2; relu; maxpool 2",
    "maxpool 2 s3; conv 4 3; avgpool 2 s1",
    "conv 6 5 same; relu; maxpool 3 s2; conv 4 3 s2 p1; bn; dropout; avgpool 2",
    "conv 4 4 same; elu; conv 4 2 s2",
    "conv 2 1; conv 2 3 p5 s3",
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("size", [9, 24, 37])
def test_receptive_field_formula_matches_autograd(spec, size):
    """At every layer that can be probed: the windows followed back give exactly the pixels with ∂y/∂x ≠ 0
    in the all-paths probe, and the real stack's gradient is zero everywhere outside them."""
    layers, s = stack(spec, c=2, size=size)
    for layer in s.spatial:
        found = cnn.probe(layers, 2, size, layer)
        failed = [c for c in cnn.checks(s, found) if not c.passed]
        assert not failed, (spec, size, layer, failed)


def test_receptive_field_on_random_stacks():
    rng = random.Random(11)
    for _ in range(25):
        entries = []
        for _ in range(rng.randint(1, 5)):
            kind = rng.choice(["conv", "conv", "maxpool", "avgpool", "relu"])
            if kind == "conv":
                entries.append(f"conv 3 {rng.randint(1, 5)} p{rng.randint(0, 2)} s{rng.randint(1, 3)} d{rng.randint(1, 3)}")
            elif kind == "relu":
                entries.append("relu")
            else:
                entries.append(f"{kind} {rng.randint(1, 3)} s{rng.randint(1, 3)}")
        size = rng.randint(12, 40)
        layers, s = stack("; ".join(entries), c=1, size=size)
        for layer in s.spatial:
            found = cnn.probe(layers, 1, size, layer)
            assert all(c.passed for c in cnn.checks(s, found)), (entries, size, layer)


def test_max_pooling_leaves_holes_in_the_real_gradient():
    """Why the page also probes with every weight 1: one random input's gradient is not the whole field."""
    layers, s = stack(cnn.DEFAULT_SPEC, size=64)
    found = cnn.probe(layers, 3, 64, 5)
    assert int((found.grad != 0).sum()) < int(found.reach.sum()) == 100


def test_exported_class_builds_the_same_network():
    layers, s = stack("conv 16 3 p1; bn; relu; maxpool 2; conv 8 5 same d2; dropout 0.1; avgpool 2; flatten; linear 5", c=2, size=20)
    namespace = {}
    code = snippet.code(s, 2, 20, 3)
    exec(compile(code.split("\nnet = Net()")[0], "cnn.py", "exec"), namespace)
    net = namespace["Net"]().eval()
    assert sum(p.numel() for p in net.parameters()) == s.total_params
    x = torch.randn(1, 2, 20, 20)
    for module, row in zip(net.layers, s.rows):
        x = module(x)
        assert tuple(x.shape) == row.shape
