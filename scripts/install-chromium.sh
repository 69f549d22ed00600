#!/usr/bin/env bash
# Debian's Chromium for the browser tests in tests/test_widget.py. Playwright's
# own browser download is not used: the tests launch /usr/bin/chromium.
exec "$(dirname "$0")/install-package.sh" /usr/bin/chromium chromium "The browser tests"
