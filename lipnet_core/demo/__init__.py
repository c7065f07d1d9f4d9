"""What the app's pages show, without Streamlit: clip views, playback, GIFs, tables and explanations."""
