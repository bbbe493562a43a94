"""ipywidgets 8 explorers of the course (each module builds one widget; headless-testable)."""
