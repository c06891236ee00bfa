"""`a21import ui`: the importer as a local page in the agent's own browser (see app.py, security.py)."""
