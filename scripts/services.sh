#!/usr/bin/env bash
# Start the local services the test suite uses when they are installed but not running.
# Where no PostgreSQL server is installed at all, tests/conftest.py starts a private one
# from the `pgserver` wheel instead, so PostgreSQL tests are never skipped.
set -u
if command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
exit 0
