#!/usr/bin/env bash
# Debian's Chromium for the browser tests in tests/test_widget.py. Playwright's
# own browser download is not used: the tests launch /usr/bin/chromium.
set -euo pipefail

[ -x /usr/bin/chromium ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium at /usr/bin/chromium: install it with your system's package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  # Never stop `make test` at a password prompt: without root or password-less sudo, say what to run.
  if ! sudo -n true 2>/dev/null; then
    echo "The browser tests need Chromium: run 'sudo apt-get install chromium', then make test again." >&2
    exit 1
  fi
  sudo="sudo -n"
fi
echo "Installing Chromium for the browser tests (apt-get install chromium)..."
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "Chromium installed: $(/usr/bin/chromium --version)"
