#!/usr/bin/env bash
# Installs one of Debian's packages if its program is missing: used for Chromium (the browser tests) and
# HAProxy (make cluster). Never stops at a password prompt: without root or password-less sudo, it says
# what to run instead.
#   scripts/install-package.sh PROGRAM PACKAGE WHAT-FOR
set -euo pipefail

program=$1 package=$2 purpose=$3
[ -x "$program" ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "$purpose needs $program: install the package $package with your system's package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! sudo -n true 2>/dev/null; then
    echo "$purpose needs $package: run 'sudo apt-get install $package', then try again." >&2
    exit 1
  fi
  sudo="sudo -n"
fi
echo "Installing $package for $purpose (apt-get install $package)..."
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
echo "$package installed: $("$program" --version 2>&1 | head -1)"
