"""Streamlit-side helpers shared by app.py and the pages (the core stays in tracker/)."""
