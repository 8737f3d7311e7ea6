"""The market domain: sources, instruments, quotes and news; other domains use ``service``."""
