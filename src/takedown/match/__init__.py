"""Indexes for matching (pure: no database or web code)."""

from takedown.match.hamming import BruteForceIndex, HammingIndex, array_to_hex, hex_to_array
from takedown.match.holder import IndexHolder

__all__ = ["BruteForceIndex", "HammingIndex", "IndexHolder", "array_to_hex", "hex_to_array"]
