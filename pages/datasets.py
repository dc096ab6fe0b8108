"""Datasets & DataLoader: the course's WaterDataset (§1.2) with __len__ and __getitem__ live, and a real DataLoader
(§1.3) over its first N samples: how many batches, and which sample lands in which batch over two epochs."""
import pandas as pd
import streamlit as st

from core import charts, loading
from core.snippets import datasets as snippet
from ui import classroom, controls, panels

COURSE_CLASS = '''class WaterDataset(Dataset):
    def __init__(self, csv_path):
        super().__init__()
        df = pd.read_csv(csv_path)
        self.data = df.to_numpy(dtype=np.float32)

    def __len__(self):
        return self.data.shape[0]  # N

    def __getitem__(self, idx):
        features = self.data[idx, :-1]  # x_i
        label = self.data[idx, -1]  # y_i
        return features, label

ds = WaterDataset("water_train.csv")
dataset = Subset(ds, range(N))  # first N rows'''


@st.cache_data(max_entries=64, show_spinner=False)
def two_epochs(n, batch_size, shuffle, drop_last, seed):
    return loading.loading(n, batch_size, shuffle, drop_last, seed)


@st.cache_data(max_entries=256, show_spinner=False)
def one_sample(index, n, batch_size, shuffle, drop_last, seed):
    return loading.sample(index, two_epochs(n, batch_size, shuffle, drop_last, seed))


st.title("Datasets & DataLoader")
st.caption(f"The course's `WaterDataset` on the bundled `water_train.csv` ({loading.MAX_N:,} generated samples: 9 water "
           "measurements scaled to [0, 1], then the 0/1 label `Potability`), and a real `DataLoader` over its first N rows.")

with st.sidebar:
    st.header("Dataset")
    n = controls.number_input("Subset size N (first N rows)", "data_n", 1, loading.MAX_N, 50)
    index = controls.number_input("Sample index i", "data_index", 0, loading.MAX_N - 1, 3,
                                  help="The sample shown by __getitem__. Indices 0 to N − 1 exist; a larger one shows the last sample.")
    st.header("DataLoader")
    batch_size = controls.slider("Batch size B", "data_batch_size", 1, 128, 8)
    shuffle = controls.toggle("shuffle", "data_shuffle", True, help="A new random order every epoch, drawn from the generator.")
    drop_last = controls.toggle("drop_last", "data_drop_last", False, help="Leave out the last batch when it is smaller than B.")
    seed = controls.number_input("Seed of the generator", "data_seed", 0, 9999, 0,
                                 help="DataLoader(..., generator=torch.Generator().manual_seed(seed)): the same seed, the same batches.")

v = two_epochs(n, batch_size, shuffle, drop_last, seed)
shown = min(index, n - 1)
s = one_sample(shown, n, batch_size, shuffle, drop_last, seed)

st.subheader("The Dataset: `__len__` and `__getitem__`")
if shown != index:
    st.info(f"The subset has N = {n} samples, indices 0 to {n - 1}: `dataset[{index}]` raises "
            f"`{loading.index_error(n, index)}`. Showing the last sample, i = {shown}.", icon=":material/info:")
left, right = st.columns([1, 1])
with left:
    st.code(COURSE_CLASS, language="python")
with right:
    st.code(f">>> len(dataset)\n{n}\n>>> features, label = dataset[{shown}]\n{s.getitem_repr}", language="python", wrap_lines=True)
    st.markdown(f"What the model receives, {s.source}:")
    st.code(s.tensor_repr, language="python", wrap_lines=True)
    st.caption(f"{s.batch_shapes}. The DataLoader's `default_collate` stacks the samples' NumPy arrays into one tensor.")
st.dataframe(pd.DataFrame([[*s.features, s.label]], columns=list(s.columns), index=[f"dataset[{shown}]"]),
             width="stretch", column_config={c: st.column_config.NumberColumn(format="%.4f") for c in s.columns[:-1]})
st.caption(f"The course writes `df.to_numpy()`, which keeps pandas' float64: its batches then arrive as float64 and a float32 "
           f"`nn.Linear` stops with `{loading.float64_error()}`. The app's WaterDataset converts to float32.")

st.subheader("The DataLoader: which sample lands in which batch")
cols = st.columns(4)
cols[0].metric("N samples, batch size B", f"{n}, {batch_size}")
cols[1].metric(f"{'⌊N/B⌋' if drop_last else '⌈N/B⌉'} batches (formula)", v.formula_batches)
cols[2].metric("len(DataLoader)", v.loader_len)
cols[3].metric("last batch, dropped", f"{v.last_batch}, {v.dropped_count}")

if v.loader_len == 0:
    st.info(f"With drop_last and N = {n} < B = {batch_size}, the only batch is incomplete and is dropped: the DataLoader "
            "yields nothing, and an epoch trains on no sample at all.", icon=":material/info:")
else:
    classroom.chart(charts.batch_assignment(v.epochs, [v.dropped(e) for e in range(loading.EPOCHS)], n, batch_size, shown),
                    key="data_batches")
    order = ("Each epoch is a fresh random order: the generator's state moves on, so epoch 2 differs from epoch 1, and the same "
             "seed gives the same two epochs again." if shuffle else
             "Without shuffle the DataLoader reads 0, 1, 2, … every epoch: the same batches every time (colour runs light to dark).")
    drop = (f" drop_last leaves out the {v.dropped_count} samples of the incomplete last batch (grey), different ones each epoch when shuffled."
            if drop_last and v.dropped_count else
            f" The last batch holds the {v.last_batch} samples left over." if v.last_batch != batch_size else " Every batch is full.")
    st.markdown(order + drop + f" Sample {shown} is ringed in orange.")
    with st.expander("Every batch as a list of sample indices", key="data_show_batches"):
        st.dataframe(pd.DataFrame(loading.batches_table(v)), hide_index=True, width="stretch", height=300)

with panels.math_panel("data"):
    st.markdown("Course §1.2: `__len__` returns N, `__getitem__(i)` the pair (x_i, y_i). §1.3, batches per epoch:")
    st.latex(rf"\text{{len(dataset)}} = N = {n}, \qquad \left\lceil \frac{{N}}{{B}} \right\rceil = \left\lceil \frac{{{n}}}{{{batch_size}}} \right\rceil = {loading.batch_count(n, batch_size, False)}")
    st.markdown("The course gives only ⌈N/B⌉. PyTorch's `drop_last=True` throws the incomplete last batch away (its documentation):")
    st.latex(rf"\left\lfloor \frac{{N}}{{B}} \right\rfloor = \left\lfloor \frac{{{n}}}{{{batch_size}}} \right\rfloor = {loading.batch_count(n, batch_size, True)}, \qquad N \bmod B = {n % batch_size} \text{{ samples dropped}}")
    st.latex(rf"\text{{last batch without drop\_last}} = N - B\left(\left\lceil N/B \right\rceil - 1\right) = {n} - {batch_size} \cdot {loading.batch_count(n, batch_size, False) - 1} = {n - batch_size * (loading.batch_count(n, batch_size, False) - 1)}")
    st.markdown("With `shuffle=True` each epoch's order is a permutation drawn from the loader's generator. PyTorch draws, per epoch: "
                "one 64-bit base seed for worker processes when the iterator starts, then `torch.randperm(N, generator=g)`, and, once "
                "those N indices are used up, one more permutation for the N mod N = 0 remaining samples, which it throws away. "
                "The check below redoes these draws without a DataLoader and gets the same order.")

panels.check_panel("data", loading.checks(v, s), note="Counts and indices are integers: they must agree exactly.")
panels.code_panel("data", snippet.code(n, batch_size, shuffle, drop_last, seed, shown), "datasets.py")
