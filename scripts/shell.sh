#!/usr/bin/env bash
# A terminal chat (`rasa shell`). Uses the action server from `make run` if it
# is up, otherwise starts one for the length of the chat. Its own Rasa server
# listens on SHELL_PORT, so it runs beside `make run`.
set -euo pipefail

bin=.venv/bin
# Does this URL answer? (The environment's Python, so no curl is needed.)
answers() { "$bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1; }
model=${MODEL:-models/itb-assistant.tar.gz}
actions_port=${ACTIONS_PORT:-5055}
shell_port=${SHELL_PORT:-5006}

if ! answers "http://localhost:$actions_port/health"; then
  "$bin/rasa" run actions --port "$actions_port" >/dev/null 2>&1 &
  actions_pid=$!
  trap 'kill "$actions_pid" 2>/dev/null || true' EXIT
fi

"$bin/rasa" shell --model "$model" --port "$shell_port" --endpoints endpoints.yml
