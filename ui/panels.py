"""The anatomy every page shares: The math, Check against PyTorch, PyTorch code."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core import latex
from core.checks import Check


tex_number = latex.number  # pages write `panels.tex_number(x)` in their math panels


def math_panel(prefix: str):
    """The expander that holds the course's formulas with the live numbers."""
    return st.expander("The math", expanded=True, key=f"{prefix}_show_math", bind="query-params")


def check_panel(prefix: str, checks: Sequence[Check], note: str | None = None) -> None:
    """Each formula result beside PyTorch's, the difference, the tolerance, and pass or fail."""
    with st.expander("Check against PyTorch", expanded=True, key=f"{prefix}_show_check", bind="query-params"):
        failed = [c for c in checks if not c.passed]
        if failed:
            st.error(f"{len(failed)} of {len(checks)} checks failed.", icon=":material/error:")
        else:
            st.success(f"All {len(checks)} checks pass: the formulas agree with PyTorch.", icon=":material/check_circle:")
        table = pd.DataFrame(
            {
                "what": [c.what for c in checks],
                "formula": [c.formula for c in checks],
                "PyTorch": [c.pytorch for c in checks],
                "|difference|": [c.difference for c in checks],
                "tolerance": [c.tolerance for c in checks],
                "result": ["pass" if c.passed else "FAIL" for c in checks],
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            height=38 + 35 * len(table),  # every check visible without scrolling
            column_config={
                "formula": st.column_config.NumberColumn(format="%.8g"),  # parameter counts up to 10⁸ exactly
                "PyTorch": st.column_config.NumberColumn(format="%.8g"),
                "|difference|": st.column_config.NumberColumn(format="%.1e"),
                "tolerance": st.column_config.NumberColumn(format="%.1e"),
            },
        )
        if note:
            st.caption(note)


def code_panel(prefix: str, code: str, filename: str) -> None:
    """A runnable script that reproduces the current view, to copy or download."""
    with st.expander("PyTorch code", expanded=False, key=f"{prefix}_show_code", bind="query-params"):
        st.caption("Runs on its own with `python` and prints the numbers this page shows.")
        st.code(code, language="python")
        st.download_button("Download script", code, file_name=filename, mime="text/x-python", key=f"{prefix}_download_code")
