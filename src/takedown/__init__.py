"""Takedown: find, match, refer and verify the removal of terrorist content online."""

__version__ = "0.1.0"
