"""The contract every registered signal type must pass (built-in or third-party)."""

from __future__ import annotations

import json

import pytest

from takedown.signals.base import InvalidSignal, SignalType


def check_signal_type(signal: SignalType) -> None:
    assert signal.name and signal.name == signal.name.strip().lower()
    assert 0 <= signal.default_threshold <= signal.max_threshold
    assert signal.index_kind in ("exact", "hamming256", "pairwise")
    examples = list(signal.examples())
    assert examples, f"{signal.name} must provide examples"
    for a, b, expected in examples:
        ca, cb = signal.validate(a), signal.validate(b)
        assert signal.validate(ca) == ca, "validate must be idempotent"
        assert json.loads(json.dumps(ca)) == ca, "values must serialise as JSON strings"
        assert signal.distance(ca, ca) == 0
        assert signal.distance(ca, cb) == signal.distance(cb, ca)
        assert signal.matches(ca, cb) is expected
    for bad in ("", "zz" * 40, "\x00"):
        with pytest.raises(InvalidSignal):
            signal.validate(bad)
