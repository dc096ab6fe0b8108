"""DL Explorer: page configuration and navigation. Sections follow the course chapters."""
import streamlit as st

from ui import catalog, classroom, gate, startup

startup.begin()  # once per process, in the background: torch threads, heavy imports, gc.freeze

# A teacher's link in presenter mode opens with the sidebar folded, the whole width for the visual.
presenting = st.query_params.get(classroom.PRESENTER) == "true"
st.set_page_config(page_title="DL Explorer", page_icon=":material/school:", layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")

pages = {
    "": [st.Page(catalog.HOME.path, title=catalog.HOME.title, icon=catalog.HOME.icon, url_path=catalog.HOME.url_path, default=True)],
    **{
        section: [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in infos]
        for section, infos in catalog.SECTIONS.items()
    },
}
page = st.navigation(pages, expanded=True)  # every page listed: students see where they are
with gate.slot():  # a few runs at a time, so a whole class moving sliders does not starve the server
    classroom.begin(page.url_path)
    classroom.sidebar()
    write_link = classroom.link_box()  # its place in the sidebar now, the address once the page has checked the link
    classroom.lesson_bar(page.url_path)
    if page.url_path not in ("", catalog.HOME.url_path):
        startup.wait()  # Home is drawn while torch loads; a topic page needs it
    try:
        page.run()
    finally:  # also after a page's st.stop() (predict-then-reveal)
        write_link()
