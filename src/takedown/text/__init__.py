"""Text matching: normalisation, MinHash/LSH, spun-rewrite alignment, translation anchors,
language identification. A pure library: no database or web imports (see docs/text.md)."""
