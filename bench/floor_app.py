"""The floor for every timing: an app with one slider and one chart, nothing else.

`?charts=k` draws k such charts, all changed by the slider: the browser bench measures k = 1, 3 and 6, the
cost of each chart a page redraws on a move."""
import plotly.graph_objects as go
import streamlit as st

n = st.slider("Points", 10, 200, 50, key="floor_n")
for k in range(max(1, min(12, int(st.query_params.get("charts", "1"))))):
    st.plotly_chart(go.Figure(go.Scatter(x=list(range(n)), y=[i * i + k for i in range(n)])), key=f"floor_chart_{k}")
