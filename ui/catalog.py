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
    "Optimizers & training": [
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
    ],
}


def topic_pages() -> list[PageInfo]:
    """All pages but Home, in navigation order."""
    return [page for pages in SECTIONS.values() for page in pages]


def all_pages() -> list[PageInfo]:
    return [HOME, *topic_pages()]
