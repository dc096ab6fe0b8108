"""CNN builder: a layer stack written as one line, run through PyTorch layer by layer; shapes, parameters,
the receptive field of one unit (formula against autograd), and the stack exported as an nn.Module."""
import streamlit as st

from core import charts
from core import cnn_builder as cnn
from core.snippets import cnn_builder as snippet
from ui import classroom, controls, panels

MAX_CHARS = 400  # of the layer spec
ADD = {"conv": "conv 32 3 p1", "maxpool": "maxpool 2", "avgpool": "avgpool 2", "batchnorm": "batchnorm", "relu": "relu",
       "elu": "elu", "dropout": "dropout 0.5", "flatten": "flatten", "linear": "linear 10"}


@st.cache_data(max_entries=64, show_spinner=False)
def build(spec, in_channels, size):
    parsed = cnn.parse(spec)
    return parsed, (None if parsed.errors else cnn.run(parsed.layers, in_channels, size))


@st.cache_data(max_entries=64, show_spinner=False)
def probe(spec, in_channels, size, layer):
    return cnn.probe(cnn.parse(spec).layers, in_channels, size, layer)


def edit(change) -> None:
    """A button's callback: change the spec before the text field is drawn; refuse what would not fit."""
    new = change(st.session_state.get("cnn_layers", cnn.DEFAULT_SPEC))
    if len(new) > MAX_CHARS:
        st.session_state["_cnn_note"] = f"The stack would pass {MAX_CHARS} characters; remove a layer first."
    else:
        st.session_state["cnn_layers"] = new


st.title("CNN builder")
st.caption("Write a stack of layers; PyTorch runs one image through it. Shapes, parameters and the receptive field of "
           "one unit come from the real forward and backward pass.")

with st.sidebar:
    st.header("Input")
    size = controls.slider("Image size H = W", "cnn_input_size", 4, 128, 64)
    in_channels = controls.slider("Channels C", "cnn_in_channels", 1, 4, 3)

spec = controls.text_input("Layers, separated by ';'", "cnn_layers", cnn.DEFAULT_SPEC, MAX_CHARS,
                           help="\n\n".join(f"`{u}`" for u in cnn.USAGE.values()))
pick, add, remove, reset = st.columns([3, 1, 1, 1.4], vertical_alignment="bottom")
with pick:
    kind = controls.selectbox("Layer to append", "cnn_add", tuple(ADD), "conv", lambda k: ADD[k])
add.button("Append", key="cnn_append", on_click=edit, args=(lambda t: cnn.append(t, ADD[kind]),), width="stretch")
remove.button("Remove last", key="cnn_remove", on_click=edit, args=(cnn.remove_last,), width="stretch")
reset.button("The course's Net", key="cnn_reset", on_click=edit, args=(lambda t: cnn.DEFAULT_SPEC,), width="stretch",
             help="§5.9: 3 × 64 × 64 in, Conv2d–ELU–MaxPool twice, Flatten, Linear to 10 classes.")
if note := st.session_state.pop("_cnn_note", None):
    st.warning(note)

parsed, stack = build(spec, in_channels, size)
if parsed.errors:
    st.error("The stack cannot be read:\n\n" + "\n".join(f"- {e}" for e in parsed.errors), icon=":material/edit_note:")
    st.stop()

ran = [r for r in stack.rows if r.shape is not None]
out_shape = ran[-1].shape if ran and stack.error is None else None
left, middle, right = st.columns(3)
left.metric("Input", f"(1, {in_channels}, {size}, {size})")
middle.metric("Output", str(out_shape) if out_shape else "refused")
right.metric("Parameters", f"{stack.total_params:,}" + ("" if stack.error is None else " so far"))
if stack.too_large:
    st.warning(stack.too_large, icon=":material/memory:")
if stack.error is not None:
    layer = stack.rows[stack.error_layer]
    st.error(f"Layer {layer.index + 1} (`{layer.spec}`): PyTorch refuses: `{stack.error}`\n\n{stack.hint}", icon=":material/block:")

st.dataframe(cnn.table(stack), hide_index=True, width="stretch", column_config={
    "layer": st.column_config.NumberColumn("#", width="small"),
    "module": st.column_config.TextColumn("PyTorch module"),
    "output": st.column_config.TextColumn("output shape"),
    "params": st.column_config.NumberColumn("parameters", format="localized"),
    "field": st.column_config.TextColumn("receptive field", help="Input pixels one unit after this layer sees."),
    "jump": st.column_config.NumberColumn("jump", help="Input pixels between neighbouring units."),
    "course": st.column_config.NumberColumn("1 + L(k−1)", help="The course's formula: conv layers only, stride 1."),
})
st.caption(f"Ran on {'the CPU' if stack.device == 'cpu' else 'the meta device (shapes only)'}, batch of one, eval mode. "
           "Each layer takes its input channels, and `linear OUT` its in_features, from the tensor that reaches it.")

found = None
if stack.spatial and stack.device == "cpu":
    st.subheader("Receptive field of one unit")
    n = len(stack.rows)
    if st.session_state.get("cnn_probe_layer", 1) > n:  # the stack got shorter: probe its last layer
        st.session_state["cnn_probe_layer"] = n
    wanted = controls.slider("Unit after layer", "cnn_probe_layer", 1, n, n) - 1 if n > 1 else 0
    layer = cnn.probe_layer(stack, wanted)
    found = probe(spec, in_channels, size, layer)
    f = stack.fields[layer]
    if layer != wanted:
        st.caption(f"Layer {wanted + 1} has no (N, C, H, W) output or sees the whole input; showing layer {layer + 1}, "
                   f"the last one before it that can be probed.")
    classroom.chart(charts.receptive_field(found), key="cnn_field_chart")
    st.caption(
        f"Unit ({found.unit[0]}, {found.unit[1]}) of channel 0 after layer {layer + 1} (`{stack.rows[layer].spec}`) sees a "
        f"{f.size} × {f.size} field of the input (outlined; clipped to the image). Neighbouring units are {f.jump} pixels apart. "
        f"The course's 1 + L(k − 1) = {f.course} counts conv layers at stride 1: each pooling or stride multiplies the jump, "
        "so every later kernel adds (k − 1)·jump pixels. Left: the real stack's gradient; max pooling passes it to one input "
        "per window and an activation such as ReLU only through its active units, so it can be 0 inside the field. Right: the same windows with every "
        "weight 1, pools averaged and activations removed: ∂y/∂x ≠ 0 exactly on the pixels the unit depends on.")

with panels.math_panel("cnn"):
    st.markdown("Output size of each conv (PyTorch's documentation; the course's §5.3 is d = 1) and pooling layer (§5.6):")
    st.latex(r"H_{out} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1, \qquad "
             r"H_{out}^{pool} = \left\lfloor \frac{H - k}{s} \right\rfloor + 1")
    st.latex(r"\text{Conv2d}: C_{out} C_{in} k^2 + C_{out}, \quad \text{BatchNorm2d}: 2C, \quad \text{Linear}: n_{in} n_{out} + n_{out}")
    last = next((r for r in reversed(ran) if len(r.shape) == 4), None)
    if last is not None:
        c, hh, ww = last.shape[1:]
        st.latex(rf"\text{{Flatten after layer {last.index + 1}}}: C \cdot H \cdot W = {c} \cdot {hh} \cdot {ww} = {c * hh * ww:,}")
    st.markdown("Receptive field after each layer (r₀ = 1, j₀ = 1); the course's §5.7 formula is the stride-1 case:")
    st.latex(r"r_l = r_{l-1} + \bigl(d_l(k_l - 1)\bigr)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l, \qquad "
             r"\text{course: } r_L = 1 + L(k-1)")
    chain = [str(x.size) for x in stack.fields[:len(stack.rows)] if x.size]
    st.latex(r"r: 1 \to " + r" \to ".join(chain) if chain else "r = 1")

panels.check_panel("cnn", cnn.checks(stack, found), note="Counts and pixel sets must match exactly.")
panels.code_panel("cnn", snippet.code(stack, in_channels, size, found.layer if found else None), "cnn.py")
