"""Getting reports to people: atomic publishing (publish.py), later email and retention."""
