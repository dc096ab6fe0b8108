"""DL Explorer's math, models and training logic. Never imports streamlit."""
