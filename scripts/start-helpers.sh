# Shell functions shared by scripts/run.sh and scripts/shell.sh (sourced, not run).

bin=.venv/bin

# Prints its arguments as the reason for stopping, on stderr, and exits with 1.
fail() { echo "$@" >&2; exit 1; }

# Does this URL answer? (The environment's Python, so no curl is needed.)
answers() { "$bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1; }

# Fails unless `make install` has made the environment: the other checks run in it.
require_environment() {
  [ -x "$bin/rasa" ] || fail "There is no environment in $bin: run \`make $1\`, which makes it (or \`make install\`)."
}

# Prints the endpoints file for an action server on port $1: endpoints.yml when it
# already names that port (5055), else a temporary copy that does (the caller removes it).
endpoints_for_actions_port() {
  local port=$1 copy
  if grep -Eq "url: *\"?http://localhost:$port/webhook" endpoints.yml; then
    echo endpoints.yml
    return
  fi
  copy=$(mktemp "${TMPDIR:-/tmp}/itb-endpoints.XXXXXX")
  sed -E "s#(url: *\"?https?://)(localhost|127\.0\.0\.1):[0-9]+/webhook#\1localhost:$port/webhook#" endpoints.yml >"$copy"
  if ! grep -q "localhost:$port/webhook" "$copy"; then
    rm -f "$copy"
    fail "Can't point Rasa at the action server on port $port: endpoints.yml has no local action_endpoint url to change."
  fi
  echo "$copy"
}
