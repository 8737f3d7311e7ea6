"""finagency."""
