"""Every page of the app, in course order. `app.py` builds the navigation from it, Home its cards,
and the tests their parameter lists, so a page is added in exactly one place."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    path: str  # script, relative to the app folder
    title: str  # navigation label and page title
    url_path: str  # the page's address: http://host/<url_path>
    icon: str  # Material icon shown in the navigation
    blurb: str  # one line for the Home card
    main_key: str | None = None  # the widget a teacher moves first (benchmarks move it)
    chart_on_load: bool = True  # False where the main chart appears only after an action (a training run)


HOME = PageInfo("pages/home.py", "Home", "home", ":material/home:", "What DL Explorer is and how to use it in class.")

#: Navigation sections, named after the course chapters. A section with no page yet is left out.
SECTIONS: dict[str, list[PageInfo]] = {
    "Data & the training loop": [
        PageInfo(
            "pages/datasets.py",
            "Datasets & DataLoader",
            "datasets",
            ":material/dataset:",
            "The course's WaterDataset: `__len__` and `__getitem__` live; which samples land in which batch, with shuffle and drop_last.",
            main_key="data_batch_size",
        ),
        PageInfo(
            "pages/backprop.py",
            "Backpropagation",
            "backprop",
            ":material/account_tree:",
            "Forward pass, loss, the δ recursion by hand beside autograd, and zero_grad / backward / step pressed one at a time.",
            main_key="bp_sample",
        ),
    ],
    "Optimizers & training": [
        PageInfo(
            "pages/optimizers.py",
            "Optimizers",
            "optimizers",
            ":material/moving:",
            "SGD, momentum, Adagrad, RMSprop, Adam race on loss surfaces; every rule checked by hand; a fair race tunes each rate.",
            main_key="opt_start_x",
        ),
        PageInfo(
            "pages/training.py",
            "Training studio",
            "training",
            ":material/model_training:",
            "Train the course's models live: streaming curves, real metrics, Stop, and up to five runs side by side.",
            chart_on_load=False,
        ),
    ],
    "Vanishing & exploding gradients": [
        PageInfo(
            "pages/activations.py",
            "Activations",
            "activations",
            ":material/show_chart:",
            "Sigmoid, tanh, ReLU and friends: f(z), f′(z) by autograd, and why gradients vanish with depth.",
            main_key="act_depth",
        ),
        PageInfo(
            "pages/initialization.py",
            "Initialization",
            "initialization",
            ":material/stacked_line_chart:",
            "Depth 1–50: activation variance and weight gradients per layer under each init scheme, beside the variance formula.",
            main_key="init_depth",
        ),
        PageInfo(
            "pages/batchnorm.py",
            "Batch normalization",
            "batchnorm",
            ":material/equalizer:",
            "One mini-batch step by step beside nn.BatchNorm1d; running statistics, train vs eval; larger learning rates.",
            main_key="bn_batch_size",
        ),
    ],
    "Images & convolutional networks": [
        PageInfo(
            "pages/augmentation.py",
            "Images & augmentation",
            "augmentation",
            ":material/photo_library:",
            "An image becomes a (C, H, W) tensor; a torchvision augmentation pipeline on a grid of samples, with histograms.",
            main_key="aug_rotation",
        ),
        PageInfo(
            "pages/conv_arithmetic.py",
            "Convolution arithmetic",
            "conv-arithmetic",
            ":material/grid_on:",
            "Output size by formula beside nn.Conv2d, the kernel sliding over the padded input, pooling, feature maps, backprop.",
            main_key="conv_stride",
        ),
        PageInfo(
            "pages/cnn_builder.py",
            "CNN builder",
            "cnn-builder",
            ":material/stacks:",
            "Write a layer stack: shapes, parameters, the receptive field by formula and by autograd, and the nn.Module.",
            main_key="cnn_input_size",
        ),
    ],
    "Classifiers": [
        PageInfo(
            "pages/softmax.py",
            "Softmax & cross-entropy",
            "softmax",
            ":material/bar_chart:",
            "Logits to probabilities; cross-entropy three ways beside F.cross_entropy; float32 overflow; the softmax Jacobian.",
            main_key="sm_logit_0",
        ),
        PageInfo(
            "pages/classification_metrics.py",
            "Classification metrics",
            "classification-metrics",
            ":material/grid_view:",
            "A confusion matrix to edit or generate; precision, recall, F1 per class and macro/micro/weighted by torchmetrics; PR and ROC curves.",
            main_key="cm_threshold",
        ),
    ],
    "Sequences & recurrent networks": [
        PageInfo(
            "pages/sequences.py",
            "Sequences & windowing",
            "sequences",
            ":material/timeline:",
            "create_sequences on the electricity series: window shapes, and the leakage of a random split next to a temporal one.",
            main_key="seq_window",
        ),
        PageInfo(
            "pages/rnn_shapes.py",
            "RNN shapes",
            "rnn-shapes",
            ":material/view_timeline:",
            "nn.RNN, nn.LSTM, nn.GRU: every shape from a real forward pass, out[:, -1] vs h_n, four architectures, and the classic shape errors.",
            main_key="rs_layers",
        ),
        PageInfo(
            "pages/lstm_gates.py",
            "LSTM & GRU gates",
            "lstm-gates",
            ":material/tune:",
            "Gate traces of a real nn.LSTM / nn.GRU recomputed from its own weights; PyTorch's equations beside the course's.",
            main_key="rnn_seq_len",
        ),
        PageInfo(
            "pages/rnn_gradients.py",
            "Gradients through time",
            "rnn-gradients",
            ":material/trending_down:",
            "‖∂h_T/∂h_k‖ for RNN, LSTM, GRU; the spectral radius of W_hh; clipping; parameter counts; LSTM vs GRU timing.",
            main_key="rnn_radius",
        ),
    ],
    "Training RNNs": [
        PageInfo(
            "pages/regression_metrics.py",
            "Regression metrics",
            "regression-metrics",
            ":material/ssid_chart:",
            "MSE, RMSE, MAE, MAPE and R² of a real seasonal-naive forecast by torchmetrics; what outliers and near-zero targets do.",
            main_key="reg_outliers",
        ),
    ],
    "Multi-input & multi-output": [
        PageInfo(
            "pages/multi_io.py",
            "Multi-input & multi-output",
            "multi-io",
            ":material/call_split:",
            "An image branch and a vector branch with live shapes; two heads trained live under three loss-weighting schemes.",
            main_key="mio_image_size",
        ),
    ],
}


def topic_pages() -> list[PageInfo]:
    """All pages but Home, in navigation order."""
    return [page for pages in SECTIONS.values() for page in pages]


def all_pages() -> list[PageInfo]:
    return [HOME, *topic_pages()]
