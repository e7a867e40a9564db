"""The Streamlit dashboard and the weekly digest."""
