"""finagency: run an AI finance content agency end to end."""

__version__ = "0.1.0"
