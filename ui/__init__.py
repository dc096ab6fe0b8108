"""Streamlit helpers the pages share: the page catalog, URL-bound controls, and the page anatomy."""
from urllib.parse import urlparse

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import RerunData, RerunException, get_script_run_ctx

# Streamlit treats an app with a folder named `pages/` as a legacy multipage app until `st.navigation`
# has run once in the process: on a fresh server, a first visit straight to /activations would run
# pages/activations.py on its own, without app.py's page config and navigation. Every page imports
# `ui`, so the first such run switches the legacy mode off and reruns through app.py. The rerun asks
# for the page by the address's last segment, not by the legacy page's hash: an address that is no
# file name (/conv-arithmetic for pages/conv_arithmetic.py) has no legacy page, and its hash would
# send the visitor to Home. (Streamlit's legacy run has already shown its closable "page not found"
# note by then; only renaming the `pages/` folder would avoid that one note on a server's first visit.)
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    ctx = get_script_run_ctx()
    if st.runtime.exists() and ctx is not None and ctx.context_info is not None:
        page_name = urlparse(ctx.context_info.url).path.rstrip("/").rsplit("/", 1)[-1]
        raise RerunException(RerunData(query_string=ctx.query_string, page_name=page_name, context_info=ctx.context_info))
    elif st.runtime.exists():
        st.rerun()
