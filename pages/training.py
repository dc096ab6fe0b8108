"""Training studio: train the course's models live, watch the curves grow, stop, compare runs, take it home."""
import json
import tempfile
from pathlib import Path

import streamlit as st

from core import charts, data, models, tasks, training, uploads
from core.snippets import training as snippet
from ui import classroom, controls, live, panels

MAX_RUNS = 5
REFRESH_S = 0.3  # the live curves redraw every 0.3 s while a run trains (at least 2 per second)
LRS = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
HIDDEN_LABELS = {"tabular": "Hidden units (first layer; the second has half)", "image": "Channels of the first conv (the second has twice)",
                 "sequence": "Hidden size of the recurrent layers"}
METRIC = {"binary": ("accuracy", "accuracy"), "multiclass": ("accuracy", "accuracy"), "regression": ("r2", "R²")}
LOSS_TEX = {"binary": r"\ell_{BCE}(\hat y, y) = -[y \log \hat y + (1-y) \log(1-\hat y)]",
            "multiclass": r"\ell_{CE}(\hat y, y) = -\log \hat y_y, \quad \hat y = \mathrm{softmax}(z)",
            "regression": r"\ell_{MSE}(\hat y, y) = (\hat y - y)^2"}
KINDS = {"tabular": "binary", "image": "multiclass", "sequence": "regression"}
_COMMON = ("task", "optimizer", "lr", "momentum", "beta1", "beta2", "weight_decay", "batch_size", "epochs", "seed", "hidden", "init", "clip")
SHOWN_SETTINGS = {"tabular": (*_COMMON, "batchnorm", "logits_loss"), "image": (*_COMMON, "batchnorm", "augment"),
                  "sequence": (*_COMMON, "cell", "seq_length")}  # the runs table shows what applies to each task

st.title("Training studio")

with st.sidebar:
    # A new task starts from its own course model: the width chosen for the last task does not carry over.
    task = controls.selectbox("Task", "train_task", tasks.TASKS, "tabular", tasks.TASK_LABELS.get,
                              on_change=lambda: controls.reset("train_hidden"))
    optimizer = controls.selectbox("Optimizer", "train_optimizer", training.OPTIMIZERS, "adam", OPTIMIZER_LABELS.get,
                                   renamed={"SGD + momentum 0.9": "SGD + momentum"})  # the label links carried before momentum had its own control
    lr = controls.selectbox("Learning rate η", "train_lr", LRS, 0.001, lambda v: f"{v:g}")
    momentum = controls.selectbox("Momentum β", "train_momentum", (0.5, 0.8, 0.9, 0.95, 0.99), 0.9) if optimizer == "momentum" else 0.9
    beta1, beta2 = (controls.selectbox("β₁ (first moment)", "train_beta1", (0.5, 0.8, 0.9, 0.95, 0.99), 0.9),
                    controls.selectbox("β₂ (second moment)", "train_beta2", (0.9, 0.99, 0.999, 0.9999), 0.999)) \
        if optimizer in ("adam", "adamw") else (0.9, 0.999)
    weight_decay = controls.selectbox("Weight decay", "train_weight_decay", (None, 0.0, 1e-4, 1e-3, 1e-2, 0.1), None,
                                      lambda v: "PyTorch's default" if v is None else f"{v:g}",
                                      help="PyTorch's default is 0.01 for AdamW and 0 for the other optimizers.")
    batch_size = controls.selectbox("Batch size", "train_batch_size", (8, 16, 32, 64, 128), 32)
    epochs = controls.slider("Epochs", "train_epochs", 1, 50, 10)
    hidden = controls.selectbox(HIDDEN_LABELS[task], "train_hidden", (4, 8, 16, 32, 64), tasks.DEFAULT_HIDDEN[task])
    init = controls.selectbox("Initialisation", "train_init", models.INITS, "default")
    clip = controls.selectbox("Gradient clipping (max norm)", "train_clip", (0.0, 0.1, 0.5, 1.0, 5.0), 0.0, lambda c: f"{c:g}" if c else "off")
    batchnorm = controls.toggle("BatchNorm after each hidden layer", "train_batchnorm") if task != "sequence" else False
    cell = controls.selectbox("Recurrent cell", "train_cell", ("rnn", "lstm", "gru"), "lstm", str.upper) if task == "sequence" else "lstm"
    augment = controls.toggle("Augmentation: random flips and rotations", "train_augment") if task == "image" else False
    logits = controls.toggle("BCEWithLogitsLoss on logits", "train_logits", help="Numerically safer than a sigmoid followed by BCELoss: it never takes log(0).") if task == "tabular" else False
    seed = controls.number_input("Seed", "train_seed", 0, 9999, 0)
    smoothing = controls.slider("Curve smoothing (EMA weight)", "train_smoothing", 0.0, 0.99, 0.6, step=0.01)

settings = tasks.Settings(task, optimizer, lr, batch_size, epochs, seed, hidden, batchnorm, init, clip, cell, augment, logits,
                          momentum=momentum, beta1=beta1, beta2=beta2, weight_decay=weight_decay)
st.caption(f"**{tasks.TASK_LABELS[task]}**: the course's model on data that ships with the app (generated, not measured: see README).")
if lr >= 1 and optimizer not in ("sgd", "momentum"):
    st.caption(f"{OPTIMIZER_LABELS[optimizer]} divides each step by a running size of the gradients, so a step is about η "
               "whatever the gradient: the loss may stay finite even at this learning rate. Plain SGD at 10 diverges.")
if task == "tabular" and lr >= 1 and not logits:
    st.caption("With a learning rate this large the run will not stop with an infinite loss: PyTorch's `BCELoss` clamps "
               "log(ŷ) at −100, so the loss stays finite (at most 100) while the model is wrecked. To see a divergence stop, try plain SGD at learning rate 10 on the sequence or image task.")

def own_images(upload) -> uploads.ImageSet | None:
    """Check and unpack an uploaded zip once per file, into a temporary folder this session owns."""
    if upload is None:
        return None
    kept = st.session_state.get("_train_images")
    if kept is None or kept[0] != upload.file_id:
        folder = tempfile.TemporaryDirectory(prefix="dlx-images-")  # removed when replaced or when the session ends
        try:
            result = uploads.image_folder_zip(upload.getvalue(), Path(folder.name), seed=0)
        except uploads.UploadError as err:
            folder.cleanup()
            result = str(err)
        kept = (upload.file_id, folder, result)
        st.session_state["_train_images"] = kept
    if isinstance(kept[2], str):
        st.error(kept[2], icon=":material/error:")
        return None
    images = kept[2]
    st.success(f"{len(images.classes)} classes, {sum(images.train_counts)} training and {sum(images.test_counts)} test pictures "
               "ready: training will use them instead of the bundled pictures.", icon=":material/check_circle:")
    st.dataframe({"class": images.classes, "train": images.train_counts, "test": images.test_counts}, hide_index=True)
    st.caption(" ".join(images.notes))
    return images


with st.expander("Use your own data", key="train_show_upload"):
    own, images = None, None
    if task == "image":
        zipped = st.file_uploader("A zip of pictures in ImageFolder layout: one folder per class (cat/1.png, dog/2.png), "
                                  "or train/<class>/… and test/<class>/…", type=["zip"], key="train_upload_zip",
                                  max_upload_size=uploads.MAX_ZIP_BYTES // 2**20)
        images = own_images(zipped)
    upload = st.file_uploader("A CSV file (UTF-8)", type=["csv"], key="train_upload") if task != "image" else None
    if upload is not None:
        try:
            frame = uploads.read_csv(upload.getvalue())
            column = st.selectbox("Target column (0/1)" if task == "tabular" else "Value column", list(frame.columns), index=len(frame.columns) - 1, key="train_upload_column")
            own = uploads.binary_table(frame, column) if task == "tabular" else uploads.series(frame, column, settings.seq_length)
            st.success(f"{len(own)} rows ready: training will use them instead of the bundled data.")
        except uploads.UploadError as err:
            st.error(str(err), icon=":material/error:")


def start_run() -> None:
    runs = st.session_state.setdefault("train_runs", [])
    name = f"run {st.session_state.get('train_counter', 0) + 1}"
    st.session_state.train_counter = st.session_state.get("train_counter", 0) + 1
    table, series = (own, None) if task == "tabular" else (None, own)
    try:
        job = live.start(settings, name, prepare=lambda: tasks.prepare(settings, table=table, series=series, images=images))
    except (ValueError, RuntimeError) as err:
        st.session_state.train_error = f"This run cannot start: {err}"
        return
    runs.append(job)
    del runs[:-MAX_RUNS]
    st.session_state.train_job = job
    st.query_params[RUNNING] = name  # if the server restarts mid-run, the reconnected page can say so


RUNNING = classroom.TRAINING_MARK  # in the address bar while a run trains; never part of a shared link
if RUNNING in st.query_params and st.session_state.get("train_job") is None:
    st.warning(f"The run “{st.query_params[RUNNING][:20]}” was training when the connection to the server was lost and "
               "the server restarted, so its history is gone. Press **Train** to start it again.", icon=":material/restart_alt:")
    del st.query_params[RUNNING]


job = st.session_state.get("train_job")
running = job is not None and job.running
left, right, _ = st.columns([1, 1, 4])
left.button("Train", type="primary", on_click=start_run, disabled=running, key="train_start", icon=":material/play_arrow:")
right.button("Stop", on_click=lambda: job.stop(), disabled=not running, key="train_stop", icon=":material/stop:")
if "train_error" in st.session_state:
    st.error(st.session_state.pop("train_error"))


@st.fragment(run_every=REFRESH_S if running else None)
def live_view() -> None:
    runs = st.session_state.get("train_runs", [])
    current = st.session_state.get("train_job")
    if current is None:
        st.info("Press **Train** to start a run. Up to five runs stay here to compare.", icon=":material/play_arrow:")
        return
    done, text = training.progress(current.name, current.snapshot(), current.total_steps, current.running, current.status)
    st.progress(done, text=text)
    if current.message:
        (st.error if current.status in ("diverged", "failed") else st.warning)(current.message)
    baseline = st.session_state.get("train_baseline")
    curves = []
    for job_ in runs:
        step_table, epoch_table = job_.tables()
        curves.append((job_.name, step_table, epoch_table, training.smooth(step_table.train_loss.tolist(), smoothing)))
    metric, label = METRIC[KINDS[current.settings.task]]
    classroom.chart(charts.training_curves(curves, metric, label, baseline), key="train_chart")
    if not current.running and not current.announced:
        current.announced = True
        if RUNNING in st.query_params:
            del st.query_params[RUNNING]
        st.rerun()  # once, so the whole page shows the finished run


live_view()
runs = st.session_state.get("train_runs", [])
finished = [j for j in runs if not j.running]
if finished:
    st.subheader("Runs")
    st.selectbox("Baseline (dashed)", [None] + [j.name for j in runs], key="train_baseline", format_func=lambda n: n or "none")
    st.dataframe(
        [{"run": j.name, "status": j.status, **{k: v for k, v in vars(j.settings).items() if k in SHOWN_SETTINGS[j.settings.task]},
          **training.last_epoch(j.tables()[1])}
         for j in runs], hide_index=True)
    last = finished[-1]
    kind = KINDS[last.settings.task]
    st.subheader(f"Results of {last.name}")
    if last.outputs.get("confusion"):
        average = controls.radio("Averaging", "train_average", ("macro", "micro", "weighted"), "macro") if kind == "multiclass" else None
        epoch_table = last.tables()[1]
        shown = [c for c in epoch_table.columns if c not in ("step", "epoch", "wall") and (average is None or c in ("train_loss", "val_loss", "accuracy") or c.endswith(average))]
        st.dataframe(epoch_table[["epoch", *shown]].tail(1), hide_index=True)
        left, right = st.columns(2)
        classroom.chart(where=left, fig=charts.confusion_matrix(last.outputs["confusion"], last.outputs["classes"]), key="train_confusion")
        right.dataframe({"class": last.outputs["classes"], **last.outputs["per_class"]}, hide_index=True)
    elif last.outputs.get("forecast"):
        st.dataframe(last.tables()[1].tail(1), hide_index=True)
        classroom.chart(charts.forecast(last.outputs["actual"], last.outputs["forecast"]), key="train_forecast")
    if last.state_dict:
        cols = st.columns(4)
        step_table, epoch_table = last.tables()
        cols[0].download_button("Model (state_dict)", last.state_dict, f"{last.name}.pt", key="train_dl_model")
        cols[1].download_button("Metrics (CSV)", epoch_table.to_csv(index=False), f"{last.name}-metrics.csv", key="train_dl_metrics")
        cols[2].download_button("Settings (JSON)", json.dumps(vars(last.settings), indent=2), f"{last.name}-settings.json", key="train_dl_settings")
        cols[3].download_button("Script (.py)", snippet.code(last.settings, str(data.ASSETS)), f"{last.name}.py", key="train_dl_script")

    with panels.math_panel("train"):
        st.markdown("The loss this task minimises (§2.3), averaged over a mini-batch B (§2.2):")
        st.latex(LOSS_TEX[kind])
        st.latex(r"\theta_{t+1} = \theta_t - \eta \cdot \frac{1}{|B|} \sum_{i \in B} \nabla_\theta \ell(f_\theta(x_i), y_i)" + rf"\qquad \eta = {last.settings.lr:g},\ |B| = {last.settings.batch_size}")
        st.markdown("Gradient clipping rescales the whole gradient when its norm passes θ; the curves are smoothed like TensorBoard's:")
        st.latex(r"g \leftarrow \min\!\left(1, \frac{\theta}{\|g\|}\right) g \qquad s'_t = w\, s'_{t-1} + (1-w)\, v_t, \quad s_t = \frac{s'_t}{1 - w^t}" + rf"\qquad w = {smoothing:g}")
    if last.checks:
        panels.check_panel("train", last.checks)
    panels.code_panel("train", snippet.code(last.settings, str(data.ASSETS)), f"{last.name}.py")
