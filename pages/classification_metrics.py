"""Classification metrics: precision, recall and F1 per class and averaged (course §6.2–6.3) from a confusion
matrix you type, edit or generate, measured by torchmetrics; then one threshold on a binary classifier's
scores, with its precision–recall and ROC curves."""
import pandas as pd
import streamlit as st

from core import binary_threshold, charts
from core import classification_metrics as cmx
from core.snippets import classification_metrics as snippet
from ui import classroom, controls, panels

SOURCES = {"edit": "Type or edit the counts", "generate": "Generate from accuracy and imbalance"}


@st.cache_data(max_entries=64, show_spinner=False)
def measure(matrix):
    return cmx.report(matrix)


@st.cache_data(max_entries=128, show_spinner=False)
def at_threshold(threshold):
    return binary_threshold.view(threshold)


def write_back(grid_key: str, matrix, columns: list[str]) -> None:
    """The grid's edits into the text form, which the link carries."""
    edits = st.session_state[grid_key].get("edited_rows", {})
    st.session_state["cm_matrix"] = cmx.format_matrix(cmx.apply_edits(matrix, edits, columns))


st.title("Classification metrics")
st.caption("Precision, recall and F1 by the course's formulas beside torchmetrics, which measures predictions that realise the matrix sample by sample.")

with st.sidebar:
    st.header("Confusion matrix")
    source = controls.radio("Source", "cm_source", tuple(SOURCES), "edit", SOURCES.get, horizontal=False)
    if source == "generate":
        k = controls.slider("Classes K", "cm_num_classes", 2, cmx.MAX_CLASSES, 3)
        accuracy = controls.slider("Accuracy (every class)", "cm_accuracy", 0.0, 1.0, 0.8, step=0.01)
        imbalance = controls.slider("Imbalance: largest / smallest class", "cm_imbalance", 1.0, 20.0, 5.0, step=0.5)
        parsed = cmx.Parsed(cmx.generated_matrix(k, accuracy, imbalance), None)
    else:
        text = controls.text_input("Counts: rows by “;”, counts by “,”", "cm_matrix", cmx.DEFAULT_TEXT, cmx.MAX_TEXT,
                                   help="Row i holds the samples of true class i; column j, those predicted as class j.")
        parsed = cmx.parse_matrix(text)
    average = controls.radio("Average", "cm_average", cmx.AVERAGES, "macro")
    st.header("Binary case")
    threshold = controls.slider("Threshold t", "cm_threshold", 0.0, 1.0, 0.5, step=0.01, help="Predict positive when score > t.")

checks = []
if parsed.error:
    st.error(f"{parsed.error} Example: `{cmx.DEFAULT_TEXT}` is 3 classes.", icon=":material/grid_off:")
else:
    matrix = parsed.matrix
    r = measure(matrix)
    checks = cmx.checks(r, average)
    classes = [str(i) for i in range(r.k)]
    matrix_col, edit_col = st.columns(2)
    classroom.chart(where=matrix_col, fig=charts.confusion_matrix(matrix, [f"class {c}" for c in classes]), key="cm_matrix_chart")
    with edit_col:
        if source == "edit":
            columns = [f"pred {c}" for c in classes]
            grid_key = f"cm_grid_{cmx.format_matrix(matrix)}"
            st.data_editor(pd.DataFrame(matrix, columns=columns, index=[f"true {c}" for c in classes]), key=grid_key,
                           on_change=write_back, args=(grid_key, matrix, columns),
                           column_config={c: st.column_config.NumberColumn(min_value=0, step=1) for c in columns})
            st.caption("Edit a count here or in the sidebar: the text form, and with it the link, follows.")
        else:
            st.markdown("The generated matrix as text (paste it into *Type or edit the counts* to change it):")
            st.code(cmx.format_matrix(matrix), language=None, wrap_lines=True)
        st.metric("Samples N", f"{r.total:,}")
        st.metric("Accuracy (trace / N)", f"{r.accuracy_torchmetrics:.4f}")

    st.subheader("Per class")
    st.dataframe(cmx.class_table(r), hide_index=True, width="stretch",
                 column_config={m: st.column_config.NumberColumn(format="%.4f") for m in ("precision", "recall", "F1")})
    classroom.chart(charts.per_class_metrics(r.torchmetrics, {m: r.averages_torchmetrics[m, average] for m in cmx.METRICS}, average), key="cm_bars")
    st.subheader(f"Averages ({average} shown with this matrix's numbers)")
    st.dataframe(cmx.average_table(r), hide_index=True, width="stretch",
                 column_config={a: st.column_config.NumberColumn(format="%.4f") for a in cmx.AVERAGES})
    for metric in cmx.METRICS:
        st.latex(cmx.average_latex(r, metric, average))
    if r.absent:
        st.info(f"Class {', '.join(map(str, r.absent))} is never true and never predicted: torchmetrics leaves it out of the "
                f"macro average; the course's 1/K over all {r.k} classes gives precision "
                f"{r.macro_course['precision']:.4f}, recall {r.macro_course['recall']:.4f}, F1 {r.macro_course['f1']:.4f}.", icon=":material/info:")
    if average == "micro":
        st.caption("With one label per sample every false positive of one class is a false negative of another, so "
                   "ΣFP = ΣFN and micro precision = micro recall = micro F1 = accuracy.")

st.subheader("Binary case: one threshold on a classifier's scores")
b = at_threshold(threshold)
checks = checks + binary_threshold.checks(b)
if not classroom.predict("cm", f"At t = {threshold:.2f} the counts are TP = {b.tp}, FN = {b.fn}, FP = {b.fp}, TN = {b.tn}. "
                         "What is F1, to two decimals?", round(b.torchmetrics["f1"], 2), tolerance=0.005, shown=lambda a: f"{a:.2f}"):
    st.stop()  # the rest of the page shows the answer
matrix_col, numbers_col = st.columns([2, 3])
classroom.chart(where=matrix_col, fig=charts.confusion_matrix(b.matrix, ["positive", "negative"]), key="cm_binary_chart")
with numbers_col:
    st.markdown(f"At t = {threshold:.2f}: **TP** = {b.tp}, **FN** = {b.fn}, **FP** = {b.fp}, **TN** = {b.tn}.")
    a, c, d = st.columns(3)
    a.metric("Precision", f"{b.torchmetrics['precision']:.4f}")
    c.metric("Recall", f"{b.torchmetrics['recall']:.4f}")
    d.metric("F1", f"{b.torchmetrics['f1']:.4f}")
    a.metric("False-positive rate", f"{b.fpr:.4f}")
    c.metric("AUROC", f"{b.auroc:.4f}")
    d.metric("Average precision", f"{b.average_precision:.4f}")
classroom.chart(charts.pr_roc_curves(b.pr_recall, b.pr_precision, b.roc_fpr, b.roc_tpr, (b.precision, b.recall, b.fpr),
                                     threshold, b.auroc, b.average_precision), key="cm_curves")
st.caption(f"Bundled scores, not a trained model: {binary_threshold.N_NEGATIVE} negatives and {binary_threshold.N_POSITIVE} positives, "
           f"each score the sigmoid of a normal draw, N(−{binary_threshold.MEAN:g}, {binary_threshold.SPREAD:g}²) for negatives and "
           f"N(+{binary_threshold.MEAN:g}, {binary_threshold.SPREAD:g}²) for positives (seed 0). Raising t trades recall for precision; "
           "the curves are every threshold at once (torchmetrics' binary_precision_recall_curve and binary_roc).")

with panels.math_panel("cm"):
    st.markdown("Per class k, from the counts (§6.2): TP_k on the diagonal, FP_k the rest of column k, FN_k the rest of row k.")
    st.latex(r"\text{Precision}_k = \frac{TP_k}{TP_k + FP_k}, \quad \text{Recall}_k = \frac{TP_k}{TP_k + FN_k}, \quad F_{1,k} = \frac{2\,TP_k}{2\,TP_k + FP_k + FN_k}")
    if not parsed.error:
        for i in range(r.k):
            st.latex(cmx.class_latex(r, i))
    st.markdown("Averages (§6.3). Where the course's formulas are silent, torchmetrics counts 0/0 as 0 and leaves classes with TP + FP + FN = 0 out of the macro mean:")
    st.latex(r"\text{P}^{micro} = \frac{\sum_k TP_k}{\sum_k (TP_k + FP_k)}, \quad \text{P}^{macro} = \frac{1}{K}\sum_k \text{P}_k, \quad \text{P}^{weighted} = \sum_k \frac{n_k}{N}\,\text{P}_k")
    st.markdown(f"Binary case at t = {threshold:.2f} (score > t is a positive prediction):")
    st.latex(rf"\text{{Precision}} = \frac{{{b.tp}}}{{{b.tp} + {b.fp}}} = {b.precision:.4f}, \quad \text{{Recall}} = \frac{{{b.tp}}}{{{b.tp} + {b.fn}}} = {b.recall:.4f}, \quad \text{{FPR}} = \frac{{{b.fp}}}{{{b.fp} + {b.tn}}} = {b.fpr:.4f}")

panels.check_panel("cm", checks, note="torchmetrics computes in float32, so its values may differ from the exact fractions by rounding.")
panels.code_panel("cm", snippet.code(None if parsed.error else parsed.matrix, average, threshold), "classification_metrics.py")
