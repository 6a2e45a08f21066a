from __future__ import annotations

import pytest

from takedown.plugins import signal_types
from tests.signals.contract import check_signal_type

TYPES = signal_types()


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_registered_signal_type_passes_the_contract(name: str) -> None:
    check_signal_type(TYPES[name])


def test_builtins_are_registered_through_the_plugin_hook() -> None:
    assert {"sha256", "md5", "pdq", "video", "url"} <= set(TYPES)
