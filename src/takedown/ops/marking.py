"""The handling marking of PDF reports, checked. Apart from :mod:`takedown.ops.render` (which
imports reportlab's helpers and ``xml.sax``) because every ``Settings()`` checks
``TAKEDOWN_HANDLING_MARKING``, light commands included."""

from __future__ import annotations

import unicodedata

#: The default handling marking printed at the top of every PDF page (reports name
#: operations, platforms and outlets: not for publication as they stand). Operators set their
#: own with ``TAKEDOWN_HANDLING_MARKING``; a report may carry another (``--marking``, the
#: report page's field).
HANDLING = "TLP:AMBER · law enforcement and named recipients only"
MARKING_MAX = 200


def handling_marking(text: str | None) -> str:
    """A handling marking as given, checked: one line of 1-200 printable characters (any
    script; Arabic and Hebrew are shaped like the rest of the PDF). ValueError otherwise."""
    if text is None:
        return HANDLING
    if not isinstance(text, str):
        raise ValueError("the handling marking must be text")
    marking = " ".join(text.split())
    if not marking:
        raise ValueError("the handling marking is empty")
    if len(marking) > MARKING_MAX:
        raise ValueError(f"the handling marking is limited to {MARKING_MAX} characters")
    bad = next((c for c in marking if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")), None)
    if bad is not None:
        raise ValueError(f"the handling marking holds a control character (U+{ord(bad):04X})")
    return marking
