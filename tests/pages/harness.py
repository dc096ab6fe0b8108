"""Run pages of the real app (app.py and its navigation) in Streamlit's AppTest, and drive their widgets."""
from __future__ import annotations

import random
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from ui.catalog import PageInfo

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("slider", "select_slider", "selectbox", "multiselect", "radio", "checkbox", "toggle", "number_input")


class _NavigationPagesManager(PagesManager):
    """AppTest resets Streamlit's legacy `pages/`-folder mode before every run, which would run a page
    script on its own. The real app always runs through app.py's `st.navigation`; so do the tests."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


app_test_module.PagesManager = _NavigationPagesManager


def open_page(info: PageInfo, query: Mapping[str, Any] | None = None, timeout: float = 120) -> AppTest:
    """The app at `info`'s page, with `query` as the URL's query string, after its first run.

    AppTest only knows a page registered under a custom url_path after one run of app.py, so Home runs
    first, then the page opens; both runs see the query string, as the one run of a link would.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (query or {}).items():  # app-wide controls (the sidebar's classroom tools) read it on Home
        at.query_params[key] = value
    at.run()
    at.switch_page(info.path)
    return at.run()


def keyed_widgets(at: AppTest) -> Iterator[Any]:
    """Every input widget on the page that has a user key (URL-bound controls), in page order."""
    for kind in KINDS:
        for widget in getattr(at, kind):
            if widget.key and not widget.key.startswith("$$"):
                yield widget


def random_value(widget: Any, rng: random.Random) -> Any:
    """A random valid value for a widget; edge values come up often."""
    kind = widget.type
    if kind == "slider" or kind == "number_input":
        lo, hi, step = widget.min, widget.max, widget.step or 1
        if lo is None or hi is None:
            return widget.value
        n_steps = int(round((hi - lo) / step))
        k = rng.choice([0, n_steps, rng.randint(0, n_steps)])
        value = lo + k * step
        return int(value) if isinstance(lo, int) and isinstance(step, int) else min(hi, round(value, 10))
    if kind in ("selectbox", "radio", "select_slider"):
        return rng.choice(widget.options)
    if kind == "multiselect":
        return rng.sample(widget.options, rng.randint(0, len(widget.options)))
    if kind in ("checkbox", "toggle"):
        return rng.random() < 0.5
    raise ValueError(f"no fuzzing rule for {kind}")


def link_value(widget: Any, value: Any) -> str | list[str]:
    """How a widget value is written in the URL's query string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def shown_value(widget: Any) -> Any:
    """A widget's current value as the URL would carry it (labels for choices)."""
    return widget.value


def snippet_values(output: str) -> dict[str, dict[str, str]]:
    """A page script's printed `name: key=value ...` lines, as {name: {key: value}}."""
    rows = {}
    for line in output.strip().splitlines():
        name, rest = line.split(":", 1)
        rows[name] = dict(re.findall(r"(\w+)=(\S+)", rest))
    return rows


def run_snippet(code: str, tmp_path: Path, name: str = "snippet.py") -> dict[str, dict[str, str]]:
    """Run a page's PyTorch code panel as a standalone script and read back what it prints."""
    script = tmp_path / name
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return snippet_values(out.stdout)
