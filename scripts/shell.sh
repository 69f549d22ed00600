#!/usr/bin/env bash
# A terminal chat (`rasa shell`). Uses the action server from `make run` if it
# is up, otherwise starts one for the length of the chat. Its own Rasa server
# listens on SHELL_PORT, on this machine only, so it runs beside `make run`.
# Like scripts/run.sh, it checks the ports and the model before starting anything.
set -euo pipefail
source scripts/start-helpers.sh

model=${MODEL:-models/itb-assistant.tar.gz}
actions_port=${ACTIONS_PORT:-5055}
shell_port=${SHELL_PORT:-5006}
actions_timeout=${ACTIONS_START_TIMEOUT:-120}

require_environment shell
[[ $actions_timeout =~ ^[0-9]+$ ]] || fail "ACTIONS_START_TIMEOUT=$actions_timeout is not a number of seconds."

ports=(shell="$shell_port")
start_actions=false
if ! answers "http://localhost:$actions_port/health"; then
  start_actions=true
  ports+=(actions="$actions_port")
fi
"$bin/python" scripts/check_ports.py --command "make shell" "${ports[@]}" || exit 1
"$bin/python" scripts/check_model.py "$model" || exit 1

actions_pid=
actions_log=
endpoints=endpoints.yml
cleanup() {
  [ -z "$actions_pid" ] || { kill "$actions_pid" 2>/dev/null || true; wait "$actions_pid" 2>/dev/null || true; }
  [ -z "$actions_log" ] || rm -f "$actions_log"
  [ "$endpoints" = endpoints.yml ] || rm -f "$endpoints"
}
trap cleanup EXIT
endpoints=$(endpoints_for_actions_port "$actions_port")

if $start_actions; then
  # Its log would interleave with the chat, so it goes to a file, shown if it fails to start.
  actions_log=$(mktemp "${TMPDIR:-/tmp}/itb-actions-log.XXXXXX")
  SANIC_HOST=127.0.0.1 "$bin/rasa" run actions --port "$actions_port" >"$actions_log" 2>&1 &
  actions_pid=$!
  until answers "http://localhost:$actions_port/health"; do
    if ! kill -0 "$actions_pid" 2>/dev/null; then
      cat "$actions_log" >&2
      fail "The action server stopped during start-up; its messages are above."
    elif [ $SECONDS -ge "$actions_timeout" ]; then
      cat "$actions_log" >&2
      fail "The action server did not answer on http://localhost:$actions_port/health within $actions_timeout s;" \
        "its messages are above. (On a slow machine: make shell ACTIONS_START_TIMEOUT=300)"
    fi
    sleep 1
  done
fi

"$bin/rasa" shell --model "$model" --interface 127.0.0.1 --port "$shell_port" --endpoints "$endpoints"
