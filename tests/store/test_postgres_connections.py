"""Takedown's PostgreSQL connections run without JIT compilation (see make_engine): the
workspace's statements are short but estimated dear, and compiling them took longer than
running them (the queue at 10,000 items: 1.07 s of 1.14 s)."""

from __future__ import annotations

from sqlalchemy import text

from takedown.store.db import make_engine


def test_connections_run_without_jit(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW jit")) == "off"
            conn.rollback()  # a rolled-back transaction keeps the connection's setting
            assert conn.scalar(text("SHOW jit")) == "off"
    finally:
        engine.dispose()


def test_callers_connect_options_are_kept(postgres_url: str) -> None:
    engine = make_engine(postgres_url, connect_args={"options": "-c work_mem=8MB"})
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW work_mem")) == "8MB"
            assert conn.scalar(text("SHOW jit")) == "off"
    finally:
        engine.dispose()
