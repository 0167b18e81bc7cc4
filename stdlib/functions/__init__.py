"""The stdlib functions, one module per category; each function is declared once."""
