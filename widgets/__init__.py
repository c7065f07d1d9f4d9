"""Streamlit widgets of this app's own (custom components), used by the pages."""
