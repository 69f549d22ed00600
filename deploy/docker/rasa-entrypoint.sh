#!/bin/sh
# Starts one Rasa replica in its container (deploy/docker/rasa.Dockerfile), after the checks that would
# otherwise end in a traceback or, worse, a server that starts on the wrong settings. scripts/run.sh's rules
# where they apply: the HTTP API is off without RASA_API_TOKEN, and a token under 32 characters is refused.
#
# Settings (environment; deploy/itb.env.example lists them): ACTION_ENDPOINT_URL, TRACKER_STORE_URL,
# REDIS_URL and ALLOWED_ORIGINS are required; RASA_API_TOKEN, MODEL and RASA_PORT are optional.
set -eu

model=${MODEL:-models/itb-assistant.tar.gz}
port=${RASA_PORT:-5005}
min_token_length=32

fail() {
  printf '%s\n' "$@" >&2
  exit 1
}

# NAME VALUE WHY: stops with what to set, naming the variable but never printing its value.
require() {
  [ -n "$2" ] || fail "$1 is not set: $3" "Set it in the container's environment (deploy/itb.env.example lists them)."
}

require ACTION_ENDPOINT_URL "${ACTION_ENDPOINT_URL:-}" \
  "deploy/endpoints.cluster.yml sends the actions there (e.g. http://haproxy:5055/webhook)."
# Without it the store would keep conversations in a SQLite file inside this one container, lost with it.
require TRACKER_STORE_URL "${TRACKER_STORE_URL:-}" \
  "conversations are kept in PostgreSQL (postgresql://itb:<password>@postgres:5432/itb)."
require REDIS_URL "${REDIS_URL:-}" \
  "the replicas take turns on a conversation through Redis (redis://redis:6379/0)."
# Without it only the demo page's http://localhost:8080 could use the chat: never the hospital's page.
require ALLOWED_ORIGINS "${ALLOWED_ORIGINS:-}" \
  "the web pages that may use the chat, e.g. https://www.your-hospital.org."

# Rasa's socket.io channel keeps its sessions in the process: one Sanic worker per process, and more
# replicas for more capacity.
if [ "${SANIC_WORKERS:-1}" != 1 ]; then
  fail "SANIC_WORKERS is ${SANIC_WORKERS}: it must be 1 (socket.io sessions live in one worker)." \
    "Run more replicas instead."
fi
export SANIC_WORKERS=1

set -- --model "$model" --endpoints deploy/endpoints.cluster.yml --credentials credentials.yml \
  --port "$port" --interface 0.0.0.0

# Rasa's HTTP API reads and changes every conversation: on only with a token, and only a long one.
if [ -n "${RASA_API_TOKEN:-}" ]; then
  if [ "${#RASA_API_TOKEN}" -lt "$min_token_length" ]; then
    fail "RASA_API_TOKEN is too short (${#RASA_API_TOKEN} characters; it needs at least $min_token_length)." \
      "Make one with:  python3 -c \"import secrets; print(secrets.token_urlsafe(32))\"" \
      "or leave RASA_API_TOKEN empty to keep the HTTP API off."
  fi
  # One word, so that a token starting with "-" is not read as another option.
  set -- "$@" --enable-api "--auth-token=$RASA_API_TOKEN"
fi

# The same allowlist the channels enforce, so that the listed pages may also read the replies (CORS).
set -- "$@" --cors
for origin in $(python -m connectors.origins); do
  set -- "$@" "$origin"
done

# A missing or damaged model, or missing encoder weights, said in one line instead of after a long start.
python scripts/check_model.py "$model"

exec rasa run "$@"
