#!/usr/bin/env bash
# A terminal chat (`rasa shell`). Uses the action server from `make run` if it
# is up, otherwise starts one for the length of the chat. Its own Rasa server
# listens on SHELL_PORT, so it runs beside `make run`.
set -euo pipefail

bin=.venv/bin
model=${MODEL:-models/itb-assistant.tar.gz}
actions_port=${ACTIONS_PORT:-5055}
shell_port=${SHELL_PORT:-5006}

if ! curl -fs "http://localhost:$actions_port/health" >/dev/null 2>&1; then
  "$bin/rasa" run actions --port "$actions_port" >/dev/null 2>&1 &
  actions_pid=$!
  trap 'kill "$actions_pid" 2>/dev/null || true' EXIT
fi

"$bin/rasa" shell --model "$model" --port "$shell_port" --endpoints endpoints.yml
