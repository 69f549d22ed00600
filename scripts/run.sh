#!/usr/bin/env bash
# Starts the action server, the Rasa server and the demo page with the chat
# widget, says how to talk to them, and stops all three on Ctrl-C. Called by
# `make run`.
set -euo pipefail

bin=.venv/bin
# Does this URL answer? (The environment's Python, so no curl is needed.)
answers() { "$bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1; }
model=${MODEL:-models/itb-assistant.tar.gz}
actions_port=${ACTIONS_PORT:-5055}
rasa_port=${RASA_PORT:-5005}
demo_port=${DEMO_PORT:-8080}
pids=()

stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo
    echo "Stopping the servers..."
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    echo "Stopped."
  fi
}
# Ctrl-C is how a user stops the assistant: a clean stop, not an error.
trap 'stop; exit 0' INT TERM
trap stop EXIT

"$bin/rasa" run actions --port "$actions_port" &
pids+=($!)
"$bin/rasa" run --model "$model" --port "$rasa_port" \
  --credentials credentials.yml --endpoints endpoints.yml \
  --cors "http://localhost:$demo_port" &
pids+=($!)
"$bin/python" scripts/serve_demo.py --port "$demo_port" --rasa-url "http://localhost:$rasa_port" &
pids+=($!)

# Wait until the REST channel answers (the model loads first), or a server exits.
until answers "http://localhost:$rasa_port/webhooks/rest/"; do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "A server stopped during start-up; see the messages above." >&2; exit 1; }
  done
  sleep 1
done

cat <<MSG

The ITB parents' assistant is running.
  Chat on a demo hospital page:  http://localhost:$demo_port
  Rasa server:    http://localhost:$rasa_port  (REST: /webhooks/rest/webhook, socket.io: /socket.io)
  Action server:  http://localhost:$actions_port

Ask it something:
  curl -s -X POST http://localhost:$rasa_port/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "parent-1", "message": "how often does the pump get refilled?"}'

Chat in a terminal (in another window):  make shell
Stop everything:  Ctrl-C
MSG

wait -n "${pids[@]}"
