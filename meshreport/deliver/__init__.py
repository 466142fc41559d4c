"""Getting reports to people: atomic publishing (publish.py) and the report archive's runs (runs.py)."""
