"""Start the app: `python -m ui.serve [streamlit options]`, what `make run` does.

Same as `streamlit run app.py [options]`, with one difference: Streamlit treats an app that has a folder
named `pages/` as a legacy multipage app until `st.navigation` has run once, so on a fresh server the
very first visit to an address like /conv-arithmetic shows Streamlit's "Page not found" note before
app.py's navigation takes over (ui/__init__.py then reruns it). Switching the legacy mode off before the
server starts removes that note; the app itself is unchanged.
"""
from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from ui import startup

APP = Path(__file__).resolve().parents[1] / "app.py"


def main() -> None:
    PagesManager.uses_pages_directory = False  # app.py's st.navigation defines every page
    startup.begin()  # torch and the figure builders load while the server starts
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
