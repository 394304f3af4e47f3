"""Helpers of the front doors (app.py): the only package besides app.py that imports
streamlit. atlas/ and layers/ never import it (tests/test_import_direction.py)."""
