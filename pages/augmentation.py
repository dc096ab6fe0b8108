"""Images & augmentation (course §4.1–4.3): a picture as a (C, H, W) tensor scaled to [0, 1], one pixel read out,
and a torchvision.transforms.v2 pipeline drawing a grid of augmented samples, with per-channel histograms."""
import streamlit as st

from core import augmentation as aug
from core import charts, uploads
from core.snippets import augmentation as snippet
from ui import classroom, controls, panels


@st.cache_data(max_entries=16, show_spinner=False)
def load(kind, data, gray, name):
    return aug.load(kind, data, gray, name)


@st.cache_data(max_entries=16, show_spinner=False)
def picture(kind, data, gray, name):
    return aug.picture(load(kind, data, gray, name).image)


@st.cache_data(max_entries=64, show_spinner=False)
def augmented(kind, data, gray, name, settings, seed, n):
    image, pic = load(kind, data, gray, name).image, picture(kind, data, gray, name)
    grid = aug.augment(image, aug.Pipeline(*settings), seed, n)
    return grid, aug.histograms(pic.tensor, grid.samples, pic.channels), aug.checks(pic, grid)


@st.cache_data(max_entries=1, show_spinner=False)
def scaling():
    return aug.scaling_levels()


st.title("Images & augmentation")
st.caption("How a picture becomes the (N, C, H, W) tensor a network reads (course §4.1–4.2), and a torchvision "
           "pipeline drawing random variants of it (§4.3). The bundled pictures are the app's synthetic 64 × 64 skies.")

with st.sidebar:
    st.header("Picture")
    kind = controls.selectbox("Bundled picture (a sky type)", "aug_image", aug.IMAGES, aug.DEFAULT_IMAGE, aug.LABELS.get)
    mode = controls.radio("Channels", "aug_mode", aug.MODES, "RGB",
                          help="grayscale: PIL's convert('L'), L = 0.299 R + 0.587 G + 0.114 B, one channel.")
    upload = st.file_uploader("Or your own PNG or JPEG, up to 5 MB (an upload is not part of the link)", key="aug_upload",
                              max_upload_size=5)
    st.header("Pipeline")
    flip_p = controls.slider("RandomHorizontalFlip: p", "aug_flip_p", 0.0, 1.0, 0.5, step=0.05)
    rotation = controls.slider("RandomRotation: degrees d, θ in [−d, d]", "aug_rotation", 0, 180, 45, format="%d°")
    autocontrast_p = controls.slider("RandomAutocontrast: p", "aug_autocontrast", 0.0, 1.0, 0.5, step=0.05)
    jitter = controls.slider("ColorJitter strength j (0 = off)", "aug_jitter", 0.0, 1.0, 0.0, step=0.05,
                             help="brightness = contrast = saturation = j: each factor drawn from [max(0, 1 − j), 1 + j].")
    crop = controls.slider("RandomResizedCrop: minimum scale (1 = off)", "aug_crop", 0.08, 1.0, 1.0, step=0.02,
                           help="A random share in [scale, 1] of the picture's area, aspect ratio in [3/4, 4/3], zoomed back to H × W.")
    size = controls.select_slider("Resize((s, s)): output size s", "aug_size", aug.SIZES, 64, lambda s: f"{s} px")
    st.header("Grid")
    n = controls.slider("Samples N", "aug_samples", 1, aug.MAX_SAMPLES, 8)
    seed = controls.slider("Seed: sample i is drawn from seed + i", "aug_seed", 0, 999, 0)

gray = mode == "grayscale"
data, name = (upload.getvalue(), upload.name) if upload is not None else (None, "")
try:
    loaded = load(kind, data, gray, name)
except uploads.UploadError as err:
    st.error(f"{err} Showing the bundled {aug.LABELS[kind]} picture instead.", icon=":material/broken_image:")
    data, name = None, ""
    loaded = load(kind, data, gray, name)
settings = (flip_p, float(rotation), autocontrast_p, jitter, crop, size)
pipeline = aug.Pipeline(*settings)
pic = picture(kind, data, gray, name)
grid, hist, checks = augmented(kind, data, gray, name, settings, seed, n)
c, h, w = pic.tensor.shape
source = f"your picture `{snippet.safe_name(loaded.name)}`" if loaded.source == "upload" else f"the bundled {aug.LABELS[kind]} picture"

st.subheader("1 · From pixels to a tensor")
if loaded.note:
    st.caption(loaded.note)
left, right = st.columns([3, 2], gap="large")
with right:
    row = controls.slider("Pixel row i", "aug_row", 0, h - 1, h // 2)
    col = controls.slider("Pixel column j", "aug_col", 0, w - 1, w // 2)
    r = aug.readout(pic, row, col)
    st.dataframe({"channel": list(pic.channels), "I(i, j) uint8": list(r.values), "ToDtype float32": list(r.scaled),
                  "value / 255": list(r.by_formula)}, hide_index=True, width="stretch",
                 column_config={"ToDtype float32": st.column_config.NumberColumn(format="%.9f"),
                                "value / 255": st.column_config.NumberColumn(format="%.9f")})
    pil_shape = f"{h} × {w}" if gray else f"{h} × {w} × 3"
    st.markdown(
        f"- {source}: PIL holds **H × W{'' if gray else ' × 3'} = {pil_shape}** values 0…255\n"
        f"- `v2.ToImage()` → **(C, H, W) = ({c}, {h}, {w})**, uint8, channels first\n"
        f"- `v2.ToDtype(torch.float32, scale=True)` → the same shape, float32 in [0, 1]\n"
        f"- `torch.stack` of N = {n} samples → **(N, C, H, W) = ({n}, {c}, {size}, {size})**"
    )
with left:
    classroom.chart(charts.aug_picture(pic.pixels, r.row, r.col), key="aug_picture_chart", csv=False)
s = scaling()
st.caption(f"Hover over the picture for any pixel's uint8 values; the outlined pixel is the one in the table, where float32 "
           "holds the nearest of its values to value / 255 (about 7 significant digits). The course's "
           f"`transforms.ToTensor()` divides by 255 in float32; `ToDtype(scale=True)` multiplies by 1/255 instead, which for "
           f"{s.differing} of the 256 levels lands one float32 step (at most {s.max_difference:.2g}) from ToTensor's value.")

st.subheader(f"2 · {n} augmented sample{'s' if n > 1 else ''}")
labels = [f"{i}: seed {d.seed}" for i, d in enumerate(grid.draws)]
hover = [aug.describe(d) for d in grid.draws]
classroom.chart(charts.aug_sample_grid(grid.samples.numpy(), labels, hover), key="aug_grid_chart", csv=False)
st.caption(f"Each sample is {source} through the pipeline below with its own seed; move the seed to draw a new grid, "
           "hover a sample for what it drew. Rotation fills the corners it uncovers with black. The course (§4.3) writes "
           "torchvision's v1 API, with the random transforms on the PIL picture and ToTensor after them; v2 recommends ToImage "
           "first, so here they run on the uint8 tensor, and ToDtype(scale=True) does ToTensor's scaling.")
st.code(snippet.pipeline(pipeline, h, w), language="python")
st.dataframe(aug.draws_table(grid), hide_index=True, width="stretch", column_config={
    "angle (°)": st.column_config.NumberColumn(format="%.2f"), "brightness": st.column_config.NumberColumn(format="%.3f"),
    "contrast": st.column_config.NumberColumn(format="%.3f"), "saturation": st.column_config.NumberColumn(format="%.3f"),
    "mean": st.column_config.NumberColumn(format="%.4f")})

st.subheader("3 · Per-channel histograms")
classroom.chart(charts.aug_channel_histograms(hist, f"after: {n} sample{'s' if n > 1 else ''} pooled"), key="aug_hist_chart")
st.caption(f"The share of each channel's values in bins of {256 // aug.BINS} levels; after the pipeline the floats are "
           "× 255 and rounded to levels. Black rotation corners pile up at 0, autocontrast stretches each channel to "
           "reach 0 and 255, brightness shifts and contrast widens or narrows the hills.")
pictures = aug.training_pictures()
st.markdown(f"**Why augment.** The bundled training set holds N = {pictures} pictures; with K = {n} random variants of each, "
            f"a network sees up to N × K = {pictures * n:,} different inputs (course §4.3), strongly correlated, "
            "so they help it generalize without being new data.")

with panels.math_panel("aug"):
    v, f = r.values, r.scaled
    st.markdown("§4.1: a picture is a matrix of intensities, " + ("one per pixel in grayscale:" if gray else "three per pixel in colour:"))
    if gray:
        st.latex(rf"I \in \{{0,\dots,255\}}^{{H \times W}}, \qquad I({r.row}, {r.col}) = {v[0]}")
    else:
        st.latex(rf"I \in \{{0,\dots,255\}}^{{H \times W \times 3}}, \qquad I({r.row},{r.col}) = [R, G, B]^T = [{v[0]}, {v[1]}, {v[2]}]^T")
    st.markdown("`ToImage` + `ToDtype(scale=True)` (the course's `ToTensor`) put channels first and scale to [0, 1]; "
                "a batch stacks N of them:")
    st.latex(rf"x[c, i, j] = \frac{{I(i, j, c)}}{{255}}, \qquad x[:, {r.row}, {r.col}] = "
             rf"[{', '.join(f'{a:.5f}' for a in f)}], \qquad (N, C, H, W) = ({n}, {c}, {size}, {size})")
    st.markdown("§4.3's horizontal flip counts j from 1 to W; PyTorch counts from 0, which makes it W − 1 − j:")
    st.latex(rf"I'(i, j) = I(i, W - j) \;\; (j = 1 \dots W), \qquad I'(i, j) = I(i, {w - 1} - j) \;\; (j = 0 \dots {w - 1})")
    theta = grid.draws[0].angle
    st.markdown(f"Rotation (§4.3), θ ~ U(−{rotation}°, {rotation}°); sample 0 drew θ = {theta:.2f}°. Each output pixel p takes the "
                "input pixel nearest to R_θ⁻¹ p (origin at the picture's centre, y up, so θ > 0 turns counter-clockwise); "
                "what falls outside is black:")
    (cos, minus_sin), (sin, _) = aug.rotation_matrix(theta)
    st.latex(rf"R_\theta = \begin{{pmatrix}} \cos\theta & -\sin\theta \\ \sin\theta & \cos\theta \end{{pmatrix}} = "
             rf"\begin{{pmatrix}} {cos:.4f} & {minus_sin:.4f} \\ {sin:.4f} & {cos:.4f} \end{{pmatrix}}")
    jitter_text = (f"ColorJitter draws each factor from [{max(0.0, 1 - jitter):g}, {1 + jitter:g}] and applies them in a random "
                   "order" if jitter else "ColorJitter (off at j = 0) would draw each factor from [1 − j, 1 + j] and apply them in a random order")
    st.markdown(f"From PyTorch's documentation: autocontrast stretches each channel to the full range; {jitter_text} "
                "(gray(x) is the luma 0.299 R + 0.587 G + 0.114 B):")
    st.latex(r"\text{autocontrast: } x' = \frac{x - \min_c x}{\max_c x - \min_c x}, \qquad \text{brightness: } x' = \mathrm{clamp}(b\,x)")
    st.latex(r"\text{contrast: } x' = \mathrm{clamp}\big(c\,x + (1-c)\,\overline{\mathrm{gray}(x)}\big), \qquad "
             r"\text{saturation: } x' = \mathrm{clamp}\big(s\,x + (1-s)\,\mathrm{gray}(x)\big)")
    if crop < 1:
        st.markdown("RandomResizedCrop (torchvision) picks an area share and an aspect ratio, then zooms the crop back to H × W:")
        st.latex(rf"A = a\,HW,\; a \sim U({crop:g}, 1), \qquad \log r \sim U(\log\tfrac34, \log\tfrac43), \qquad "
                 r"w = \mathrm{round}\sqrt{A\,r},\; h = \mathrm{round}\sqrt{A / r}")

panels.check_panel("aug", checks + [aug.pixel_check(r)],
                   note="Shapes and integer pixels must match exactly (counts of differences, tolerance 0); float32 values "
                        f"within one float32 step at 1.0 ({aug.ONE_STEP:.2g}) of the float64 formula, filters within 1e-6. The "
                        "rotation is compared at every pixel whose source does not sit on the border between two pixels, where "
                        "float32 and float64 may round to different neighbours.")
panels.code_panel("aug", snippet.code(loaded, pipeline, seed, n, r.row, r.col), "augmentation.py")
