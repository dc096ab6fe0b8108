"""Streamlit helpers the pages share: the page catalog, URL-bound controls, and the page anatomy."""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

# Streamlit treats an app with a folder named `pages/` as a legacy multipage app until `st.navigation`
# has run once in the process: on a fresh server, a first visit straight to /activations would run
# pages/activations.py on its own, without app.py's page config and navigation. Every page imports
# `ui`, so the first such run switches the legacy mode off and reruns through app.py.
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    if st.runtime.exists():
        st.rerun()
