"""The AVA data core: layout, naming, timing and one grammar per file kind (standard library and NumPy only)."""
