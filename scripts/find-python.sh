#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, the version Rasa 3.6 needs.
# Looks on PATH, then in pyenv's versions, then in the usual system places
# (FIND_PYTHON_SYSTEM_CANDIDATES, space-separated, replaces those, e.g. for a test).
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

candidates=()
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root)"; fi
for dir in "$pyenv_root"/versions/3.10*; do
  [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
done
read -r -a system_candidates <<<"${FIND_PYTHON_SYSTEM_CANDIDATES-/usr/bin/python3.10 /usr/local/bin/python3.10}"
candidates+=(${system_candidates[@]+"${system_candidates[@]}"})
command -v python3 >/dev/null 2>&1 && candidates+=("$(command -v python3)")

for python in "${candidates[@]}"; do
  if [ -x "$python" ] && is_310 "$python"; then
    echo "$python"
    exit 0
  fi
done

cat >&2 <<'MSG'
No Python 3.10 found. Rasa 3.6 runs on Python 3.8-3.10, and this project uses 3.10.
Install one, then run the command again:
  - with pyenv (any Linux or macOS):  pyenv install 3.10
  - or your system's package, where it has one (Ubuntu 22.04: apt-get install python3.10-venv)
Or point PYTHON at one:  make run PYTHON=/path/to/python3.10
MSG
exit 1
