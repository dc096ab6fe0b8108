"""The floor for every timing: an app with one slider and one chart, nothing else."""
import plotly.graph_objects as go
import streamlit as st

n = st.slider("Points", 10, 200, 50, key="floor_n")
st.plotly_chart(go.Figure(go.Scatter(x=list(range(n)), y=[i * i for i in range(n)])), key="floor_chart")
