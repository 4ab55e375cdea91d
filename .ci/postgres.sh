#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the tests; print its SQLAlchemy URL on stdout.
# Installs Debian's postgresql package when it is missing. Prints nothing (and says why on
# stderr) when PostgreSQL cannot be had here, so the caller can skip those tests.
set -uo pipefail
say() { echo "postgres.sh: $*" >&2; }
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pgbin)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing postgresql from Debian's packages"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 \
      || { say "could not install postgresql"; exit 0; }
  else
    say "postgresql is not installed and cannot be installed here (not root, or no apt-get)"
    exit 0
  fi
fi
BIN=$(pgbin)
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  RUNAS=(runuser -u postgres --)
fi
DIR=$(mktemp -d /tmp/kyr-pg.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${RUNAS[@]}" "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >"$DIR/initdb.log" 2>&1 \
  || { say "initdb failed: $(tail -n 3 "$DIR/initdb.log")"; exit 0; }
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off" start >&2 \
  || { say "server did not start: $(tail -n 3 "$DIR/server.log")"; exit 0; }
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres kyr >&2 || { say "createdb failed"; exit 0; }
echo "$DIR" > /tmp/kyr-pg.last
echo "postgresql+asyncpg://postgres@127.0.0.1:$PORT/kyr"
