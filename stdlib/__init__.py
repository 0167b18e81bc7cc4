"""The functions and connector kinds of the Flow language, each declared once."""
