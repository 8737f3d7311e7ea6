"""Local fake servers that answer as the real platform APIs do, for tests and the demo."""
