#!/usr/bin/env bash
# pdftotext (poppler-utils) for the tests that read the text of generated PDFs (tests/web).
# Idempotent and quiet: does nothing when it is installed already. CI runs as root.
set -euo pipefail
if command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq poppler-utils >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq poppler-utils >/dev/null
fi
command -v pdftotext >/dev/null || { echo "poppler-utils did not install pdftotext" >&2; exit 1; }
