"""A local web app to label actions by person track and time span (``tools/annotate.py``, docs/labelling.md)."""
