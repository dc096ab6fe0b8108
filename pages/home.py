"""Home: what DL Explorer is, one card per topic page, and how to use it in class."""
import streamlit as st

from ui import catalog

st.title("DL Explorer")
st.markdown(
    "Explore intermediate deep learning with PyTorch by moving sliders. Every number on every page is "
    "computed by real PyTorch; every formula is checked against what PyTorch actually does, and where the "
    "textbook and PyTorch differ, the page says so. Every view can be copied as runnable code and shared as a link."
)

for section, pages in catalog.SECTIONS.items():
    st.subheader(section)
    columns = st.columns(3)
    for i, page in enumerate(pages):
        with columns[i % 3].container(border=True):
            st.page_link(page.path, label=page.title, icon=page.icon)
            st.caption(page.blurb)

st.subheader("Using it in class")
st.markdown(
    """
- **Every view is a link.** Each control writes its value into the address bar. Copy the address and
  the same view opens for your students, with every slider where you left it.
- **Show, then open the panels.** Each page has the visual first, then *The math* (the course's formulas
  with the live numbers), *Check against PyTorch* (formula against PyTorch, pass or fail) and
  *PyTorch code* (a script that reproduces the view; students can run it at home).
- **Classroom tools** (sidebar, *Classroom*): presenter mode for the projector; *Predict, then reveal*, which
  asks the class for a guess before a page shows its number; the link to the current view with a copy
  button; and lessons: walk through an example lesson for each part of the course, or save the views you
  open as your own lesson file and open it again next time.
- **One server for the room.** Start it on a laptop on the classroom network and give the students its
  address: see the README, "Running it for a class".
"""
)
