"""Convolution arithmetic: output sizes by formula beside nn.Conv2d, the kernel sliding over the padded input,
parameters, pooling, feature maps of classic kernels, and backprop through a convolution."""
import time

import streamlit as st

from core import charts, conv_backprop, conv_pooling
from core import conv_arithmetic as conv
from core import feature_maps as fm
from core.snippets import conv_arithmetic as snippet
from ui import classroom, controls, panels

PLAY_SECONDS = 0.8  # one step of the sliding window per this many seconds while playing


@st.cache_data(max_entries=256, show_spinner=False)
def conv_shape(h, w, k, padding, s, d, c_in, c_out):
    return conv.conv_shape(h, w, k, padding, s, d, c_in, c_out)


@st.cache_data(max_entries=32, show_spinner=False)
def sliding_example(h, w, k, padding, s, d):
    return conv.sliding_example(h, w, k, padding, s, d)


@st.cache_data(max_entries=128, show_spinner=False)
def pooling(h, w, c, k, s):
    return conv_pooling.pool_shape(h, w, c, k, s), conv_pooling.pool_example(k, s)


@st.cache_data(max_entries=32, show_spinner=False)
def backprop(k, c_in, c_out):
    return conv_backprop.backprop(k, c_in, c_out)


@st.cache_data(max_entries=16, show_spinner=False)
def image(data):
    return fm.load_image(data if data is not None else fm.SHAPES_PATH.read_bytes())


@st.cache_data(max_entries=32, show_spinner=False)
def feature_map(data, kernel):
    return fm.feature_map(image(data).image, kernel)


st.title("Convolution arithmetic")
st.caption("Output sizes by formula beside the real `nn.Conv2d`, the kernel sliding over the padded input, pooling, "
           "feature maps, and the gradients of a convolution.")

with st.sidebar:
    st.header("Input")
    h = controls.slider("Height H", "conv_h_in", 1, 256, 5)
    w = controls.slider("Width W", "conv_w_in", 1, 256, 5)
    c_in = controls.slider("In channels C_in", "conv_c_in", 1, 64, 3)
    st.header("nn.Conv2d")
    c_out = controls.slider("Out channels C_out", "conv_c_out", 1, 64, 32)
    k = controls.slider("Kernel size k", "conv_kernel", 1, 11, 3)
    padding = controls.selectbox("Padding p", "conv_padding", conv.PADDINGS, 0, help="'same' is PyTorch's padding='same'.")
    s = controls.slider("Stride s", "conv_stride", 1, 5, 1)
    d = controls.slider("Dilation d", "conv_dilation", 1, 4, 1)
    st.header("Pooling")
    pool_k = controls.slider("Window k", "conv_pool_kernel", 1, 8, 2)
    pool_s = controls.slider("Stride s", "conv_pool_stride", 1, 8, 2)
    st.header("Feature maps")
    filter_name = controls.selectbox("Kernel", "conv_filter", fm.FILTERS, "edge_x", fm.LABELS.get)
    custom_text = controls.text_input("Custom 3 × 3 kernel: a,b,c; d,e,f; g,h,i", "conv_custom", fm.DEFAULT_CUSTOM, 120,
                                      help="Used when the kernel is 'custom'. Rows separated by ';', numbers by ','.")

shape = conv_shape(h, w, k, padding, s, d, c_in, c_out)


def sizes() -> None:
    """Formula beside nn.Conv2d, the parameter count, and PyTorch's error when it refuses."""
    left, middle, right = st.columns(3)
    left.metric("Formula: H_out × W_out", f"{shape.formula[0]} × {shape.formula[1]}")
    middle.metric("nn.Conv2d(...)(x).shape", str(shape.pytorch) if shape.pytorch else "refused")
    right.metric("Parameters, sum(p.numel())", f"{shape.params_pytorch:,}",
                 help=f"C_out·C_in·k·k + C_out = {c_out}·{c_in}·{k}·{k} + {c_out} = {shape.params_formula:,}")
    st.markdown(f"`nn.Conv2d({c_in}, {c_out}, kernel_size={k}, stride={s}, padding={padding!r}, dilation={d})` on `x` of shape "
                f"(1, {c_in}, {h}, {w}), run on PyTorch's meta device: its real shape checks and errors, without the arithmetic.")
    st.caption(conv.course_note(shape))
    if shape.error:
        st.error(f"PyTorch refuses: `{shape.error}`\n\n{shape.hint}", icon=":material/block:")


def ticker() -> None:
    """While playing: every PLAY_SECONDS, ask for one step and rerun the page (the slider moves before it is drawn)."""
    now = time.monotonic()
    if now - st.session_state.get("_conv_last_step", 0.0) >= PLAY_SECONDS * 0.9:
        st.session_state["_conv_last_step"] = now
        st.session_state["_conv_advance"] = True
        st.rerun()


def sliding_view(ex: conv.SlidingExample | None) -> conv.SlidingStep | None:
    """Play, the position slider (the source of truth, in the link), the window on the padded input, the cell written.

    The slider runs over 0–100 % of the output, one step per output cell, so a link keeps its meaning for any setting."""
    n = ex.output.numel() if ex is not None else 1
    playing = controls.toggle("Play", "conv_play", help=f"Moves the window one output cell every {PLAY_SECONDS:g} s.")
    if st.session_state.pop("_conv_advance", False) and playing and n > 1:
        now = conv.cell_index(st.session_state.get("conv_position", 0.0), n)
        st.session_state["conv_position"] = conv.share_of((now + 1) % n, n)
    share = controls.slider("Window position: % of the way through the output, one step per cell", "conv_position",
                            0.0, 100.0, 0.0, step=100 / (n - 1) if n > 1 else 1.0, format="%.0f%%")
    if ex is None:
        st.info("No output, so there is nothing to slide over: see PyTorch's message above.", icon=":material/block:")
        return None
    if playing and n > 1:
        st.fragment(run_every=PLAY_SECONDS)(ticker)()
    step = conv.sliding_step(ex, conv.cell_index(share, n))
    classroom.chart(charts.sliding_window(step, ex.kernel), key="conv_sliding_chart")
    crop = (f" The drawing shows rows {step.in_rows[0]}…{step.in_rows[1] - 1} and columns {step.in_cols[0]}…{step.in_cols[1] - 1} of the "
            f"{step.padded_shape[0]} × {step.padded_shape[1]} padded input (at most {conv.VIEW_CAP} cells a side, more when the window spans more)."
            if step.cropped else "")
    st.caption(f"Cell {step.position + 1} of {n}. " + conv.describe_step(step, k) + " One input channel and one filter of random "
               f"integers; with C_in channels each output adds C_in such sums and a bias. Negative indices and indices ≥ H are padding.{crop}")
    return step


if not classroom.predict("conv", f"An input of {h} × {w}, a {k} × {k} kernel, padding {padding}, stride {s}, dilation {d}: "
                         "what is the output height H_out?", shape.formula[0]):
    st.stop()  # the rest of the page shows the answer
sizes()
st.subheader("The kernel sliding over the padded input")
step_ex = sliding_example(h, w, k, padding, s, d) if shape.pytorch is not None else None
step = sliding_view(step_ex)

st.subheader("Pooling")
pool, pooled = pooling(h, w, c_in, pool_k, pool_s)
left, middle, right = st.columns(3)
left.metric("Formula: ⌊(H − k)/s⌋ + 1", f"{pool.formula[0]} × {pool.formula[1]}")
middle.metric(f"nn.MaxPool2d({pool_k}, {pool_s})", str(pool.max_shape) if pool.max_shape else "refused")
right.metric(f"nn.AvgPool2d({pool_k}, {pool_s})", str(pool.avg_shape) if pool.avg_shape else "refused")
if pool.error:
    st.error(f"PyTorch refuses: `{pool.error}`\n\n{pool.hint}", icon=":material/block:")
if pooled is not None:
    classroom.chart(charts.pooling_grids(pooled), key="conv_pool_chart")
    st.caption(f"The numbers above are for your input ({h} × {w}, {c_in} channels); the picture pools a fixed "
               f"{conv_pooling.POOL_GRID} × {conv_pooling.POOL_GRID} one-channel example with the same window and stride. "
               "The first window and the cell it writes are outlined. Max keeps the strongest value; average smooths.")

st.subheader("Feature maps")
upload = st.file_uploader("Your own image (PNG or JPEG; an upload is not part of the link)", key="conv_upload",
                          max_upload_size=fm.MAX_UPLOAD_BYTES // 2**20)
data = upload.getvalue() if upload is not None else None
loaded = image(data)
if loaded.error:
    st.error(loaded.error, icon=":material/broken_image:")
    data, loaded = None, image(None)
elif loaded.note:
    st.caption(loaded.note)
parsed = fm.parse_kernel(custom_text) if filter_name == "custom" else fm.KernelText(fm.KERNELS[filter_name], None)
if parsed.error:
    st.error(f"The custom kernel cannot be used: {parsed.error}", icon=":material/grid_off:")
fmap = feature_map(data, parsed.kernel or fm.KERNELS["identity"])
classroom.chart(charts.feature_maps(fmap, f"{fm.LABELS[filter_name]}: {fm.kernel_text(fmap.kernel.tolist())}"), key="conv_fmap_chart")
flip = ("this kernel looks the same turned by 180°, so flipping it changes nothing" if fmap.flip_difference < 1e-12 else
        f"flipping this kernel would change the output by up to {fmap.flip_difference:.3g}")
st.caption("`F.conv2d` (3 × 3, padding 1, stride 1) computes cross-correlation, Σ x[i+m, j+n]·K[m, n], with no kernel flip: "
           f"the formula the course writes (§5.2). A textbook convolution flips the kernel first; {flip}.")

grads = backprop(k, c_in, c_out)
with panels.math_panel("conv"):
    pads = f"{shape.pads_h[0]} + {shape.pads_h[1]}"
    st.markdown("Output size, from PyTorch's documentation; the course's formula (§5.3) is the case d = 1:")
    st.latex(rf"H_{{out}} = \left\lfloor \frac{{H + 2p - d(k-1) - 1}}{{s}} \right\rfloor + 1 = \left\lfloor \frac{{{h} + {pads} - {d}\cdot{k - 1} - 1}}{{{s}}} \right\rfloor + 1 = {shape.formula[0]}")
    st.latex(rf"W_{{out}} = \left\lfloor \frac{{{w} + {pads} - {d}\cdot{k - 1} - 1}}{{{s}}} \right\rfloor + 1 = {shape.formula[1]}, \qquad d = 1:\; H_{{out}} = \left\lfloor \frac{{H + 2p - k}}{{s}} \right\rfloor + 1")
    st.latex(rf"\text{{parameters}} = C_{{out}} C_{{in}} k^2 + C_{{out}} = {c_out}\cdot{c_in}\cdot{k}^2 + {c_out} = {shape.params_formula:,}")
    st.markdown("Each output is a weighted sum over the window (§5.2, with stride and dilation), and pooling (§5.6):")
    st.latex(r"y[i, j] = b + \sum_{m=0}^{k-1}\sum_{n=0}^{k-1} x_{pad}[i s + m d,\; j s + n d]\; w[m, n]")
    st.latex(rf"\text{{pool}}: H_{{out}} = \left\lfloor \frac{{H - k}}{{s}} \right\rfloor + 1 = \left\lfloor \frac{{{h} - {pool_k}}}{{{pool_s}}} \right\rfloor + 1 = {pool.formula[0]}")
    st.markdown(f"Backpropagation through Y = X ⋆ W (§5.10), checked on X of shape (1, {c_in}, {grads.n}, {grads.n}) with stride 1, no padding:")
    st.latex(r"\frac{\partial \mathcal{L}}{\partial W} = X \star \frac{\partial \mathcal{L}}{\partial Y}, \qquad "
             r"\frac{\partial \mathcal{L}}{\partial X} = \mathrm{full}\!\left(\frac{\partial \mathcal{L}}{\partial Y} \star \mathrm{rot}_{180}(W)\right)")

panels.check_panel("conv", conv.checks(shape, step, step_ex, pool, pooled, grads) + fm.checks(fmap),
                   note="Sizes and counts must match exactly; sums of float64 numbers to 1e-9 or better.")
panels.code_panel("conv", snippet.code(h, w, k, padding, s, d, c_in, c_out, pool_k, pool_s, step.position if step else 0),
                  "conv_arithmetic.py")
