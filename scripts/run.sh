#!/usr/bin/env bash
# Starts the action server, the Rasa server and the demo page with the chat
# widget, says how to talk to them, and stops all three on Ctrl-C. Called by
# `make run`.
#
# Before starting anything it checks what would otherwise fail later with a
# traceback (the environment, the ports, the model, RASA_API_TOKEN), and it
# stops everything, saying why, if a server dies or doesn't come up in time.
#
# Settings (environment or make variables, e.g. `make run RASA_PORT=5015`):
#   RASA_PORT (5005), ACTIONS_PORT (5055), DEMO_PORT (8080), MODEL,
#   RASA_API_TOKEN: turns on Rasa's HTTP API, which needs this token (32+ characters);
#   ALLOWED_ORIGINS: the web pages that may use the chat (default: the demo page);
#   ACTIONS_START_TIMEOUT (120), RASA_START_TIMEOUT (300): seconds to wait for each server.
set -euo pipefail
source scripts/start-helpers.sh

model=${MODEL:-models/itb-assistant.tar.gz}
actions_port=${ACTIONS_PORT:-5055}
rasa_port=${RASA_PORT:-5005}
demo_port=${DEMO_PORT:-8080}
actions_timeout=${ACTIONS_START_TIMEOUT:-120}
rasa_timeout=${RASA_START_TIMEOUT:-300}
min_token_length=32

require_environment run
for setting in ACTIONS_START_TIMEOUT="$actions_timeout" RASA_START_TIMEOUT="$rasa_timeout"; do
  [[ ${setting#*=} =~ ^[0-9]+$ ]] || fail "$setting is not a number of seconds."
done

# Rasa's HTTP API can read and change every conversation, so it is off unless
# the operator gives a token, and then only answers requests that carry it.
api_args=()
if [ -n "${RASA_API_TOKEN:-}" ]; then
  if [ ${#RASA_API_TOKEN} -lt $min_token_length ]; then
    fail "RASA_API_TOKEN is too short (${#RASA_API_TOKEN} characters; it needs at least $min_token_length)."$'\n'\
"Make one with:  python3 -c \"import secrets; print(secrets.token_urlsafe(32))\""$'\n'\
"or leave RASA_API_TOKEN unset to keep the HTTP API off."
  fi
  # One word, so that a token starting with "-" is not read as another option.
  api_args=(--enable-api "--auth-token=$RASA_API_TOKEN")
fi

"$bin/python" scripts/check_ports.py --command "make run" \
  actions="$actions_port" rasa="$rasa_port" demo="$demo_port" || exit 1
"$bin/python" scripts/check_model.py "$model" || exit 1

pids=()
names=()
endpoints=endpoints.yml
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo
    echo "Stopping the servers..."
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    echo "Stopped."
  fi
  [ "$endpoints" = endpoints.yml ] || rm -f "$endpoints"
}
# Ctrl-C is how a user stops the assistant: a clean stop, not an error.
trap 'stop; exit 0' INT TERM
trap stop EXIT
started() { pids+=("$1"); names+=("$2"); }
# Sets `server` to the first server that has exited, and how.
exited() {
  local i status
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null && continue
    status=0
    wait "${pids[$i]}" 2>/dev/null || status=$?
    [ "$status" -ne 127 ] || status=${collected:-127}  # 127: the `wait -n` at the end collected it
    if [ "$status" -gt 128 ]; then
      server="${names[$i]} (killed by SIG$(kill -l "$status" 2>/dev/null || echo "NAL $((status - 128))"))"
    else
      server="${names[$i]} (exit code $status)"
    fi
    return 0
  done
  return 1
}

# endpoints.yml names the action server on port 5055; another ACTIONS_PORT needs a copy that names that port.
endpoints=$(endpoints_for_actions_port "$actions_port")

# The action server answers only this machine (SANIC_HOST): only Rasa talks to it.
SANIC_HOST=127.0.0.1 "$bin/rasa" run actions --port "$actions_port" &
started $! "The action server"
# The pages allowed to use the chat (ALLOWED_ORIGINS, else this demo page): the
# channels refuse other origins themselves; --cors lets the listed ones read replies.
export DEMO_PORT=$demo_port
read -r -a origins <<<"$("$bin/python" -m connectors.origins)"
"$bin/rasa" run --model "$model" --port "$rasa_port" \
  --credentials credentials.yml --endpoints "$endpoints" \
  --cors "${origins[@]}" ${api_args[@]+"${api_args[@]}"} &
started $! "The Rasa server"
"$bin/python" scripts/serve_demo.py --port "$demo_port" --rasa-url "http://localhost:$rasa_port" &
started $! "The demo page server"

# Is the server at URL answering yet? Once its TIMEOUT (seconds since this
# script started) has passed, stops everything, naming the SETTING to raise.
answering() {  # NAME URL TIMEOUT SETTING
  answers "$2" && return 0
  [ $SECONDS -lt "$3" ] || fail "$1 did not answer on $2 within $3 s; see its messages above." \
    "(On a slow machine: make run $4=$(($3 * 2)))"
  return 1
}

# Wait until the action server's /health and Rasa's REST channel answer (the
# model loads first), giving up if a server exits or takes too long.
actions_up=false
rasa_up=false
while ! $actions_up || ! $rasa_up; do
  if exited; then
    fail "$server stopped during start-up; see its messages above."
  fi
  if ! $actions_up && answering "The action server" "http://localhost:$actions_port/health" \
    "$actions_timeout" ACTIONS_START_TIMEOUT; then
    actions_up=true
  fi
  if ! $rasa_up && answering "The Rasa server" "http://localhost:$rasa_port/webhooks/rest/" \
    "$rasa_timeout" RASA_START_TIMEOUT; then
    rasa_up=true
  fi
  $actions_up && $rasa_up || sleep 1
done

api_line="HTTP API:       off (set RASA_API_TOKEN to turn it on)"
[ ${#api_args[@]} -eq 0 ] || api_line="HTTP API:       on, for requests with ?token=\$RASA_API_TOKEN"
cat <<MSG

The ITB parents' assistant is running.
  Chat on a demo hospital page:  http://localhost:$demo_port
  Rasa server:    http://localhost:$rasa_port  (REST: /webhooks/rest/webhook, socket.io: /socket.io)
  $api_line
  Action server:  http://localhost:$actions_port  (this machine only)

Ask it something:
  curl -s -X POST http://localhost:$rasa_port/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "parent-1", "message": "how often does the pump get refilled?"}'

Chat in a terminal (in another window):  make shell
Stop everything:  Ctrl-C
MSG

# Runs until Ctrl-C, or until a server stops by itself: then the others are stopped too.
collected=0
wait -n "${pids[@]}" || collected=$?
exited || server="A server (exit code $collected)"
fail $'\n'"$server stopped; see its messages above."
