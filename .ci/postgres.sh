#!/usr/bin/env bash
# .ci/postgres.sh — a throwaway PostgreSQL server on 127.0.0.1 for the tests
# that need one (appeal/sqlstore, the root package's benchmarks).
#
# Two ways to use it:
#
#   source .ci/postgres.sh     # from .ci/run: installs PostgreSQL from Debian
#                              # packages if needed, starts a cluster in a temp
#                              # dir on a free port, creates database
#                              # "appealkit", exports APPEALKIT_PG_DSN and
#                              # stops + removes it all on EXIT (trap).
#
#   .ci/postgres.sh go test ./appeal/sqlstore/...   # run one command with a
#                              # server up, then stop it; exits with the
#                              # command's status.
#
# If APPEALKIT_PG_DSN is already set, nothing is installed or started.
# If the caller needs its own EXIT trap, call appealkit_pg_stop from it
# (the function is idempotent).
# Runs as root (uses the "postgres" system user for the server) or as an
# ordinary user with PostgreSQL already installed.

appealkit_pg_start() {
	if [ -n "${APPEALKIT_PG_DSN:-}" ]; then
		echo "postgres.sh: APPEALKIT_PG_DSN already set; using it" >&2
		return 0
	fi
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
		if [ "$(id -u)" != 0 ]; then
			echo "postgres.sh: PostgreSQL is not installed and we are not root" >&2
			return 1
		fi
		echo "postgres.sh: installing postgresql from apt" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
		# policy-rc.d may refuse to start the packaged cluster; we do not
		# need it, we start our own below.
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
	fi
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

	local port=54329
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done

	APPEALKIT_PG_DIR=$(mktemp -d /tmp/appealkit-pg.XXXXXX) || return 1
	local run=()
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$APPEALKIT_PG_DIR"
		run=(runuser -u postgres --)
	fi
	APPEALKIT_PG_CTL=("${run[@]}" "$bin/pg_ctl" -D "$APPEALKIT_PG_DIR/data")

	"${run[@]}" "$bin/initdb" -D "$APPEALKIT_PG_DIR/data" -U postgres -A trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$APPEALKIT_PG_DIR/initdb.log" 2>&1 || {
		cat "$APPEALKIT_PG_DIR/initdb.log" >&2
		return 1
	}
	"${APPEALKIT_PG_CTL[@]}" -w -t 60 -l "$APPEALKIT_PG_DIR/server.log" \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $APPEALKIT_PG_DIR -c max_connections=100" \
		start >/dev/null || {
		cat "$APPEALKIT_PG_DIR/server.log" >&2
		return 1
	}
	"${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres appealkit || return 1
	export APPEALKIT_PG_DSN="postgres://postgres@127.0.0.1:$port/appealkit?sslmode=disable"
	echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') up; APPEALKIT_PG_DSN=$APPEALKIT_PG_DSN" >&2
}

appealkit_pg_stop() {
	if [ -n "${APPEALKIT_PG_DIR:-}" ] && [ -d "$APPEALKIT_PG_DIR" ]; then
		"${APPEALKIT_PG_CTL[@]}" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$APPEALKIT_PG_DIR"
		echo "postgres.sh: PostgreSQL stopped" >&2
		unset APPEALKIT_PG_DIR APPEALKIT_PG_DSN
	fi
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# Sourced.
	appealkit_pg_start || return 1
	trap appealkit_pg_stop EXIT
else
	set -u
	appealkit_pg_start || exit 1
	trap appealkit_pg_stop EXIT
	if [ $# -gt 0 ]; then
		"$@"
		exit $?
	fi
fi
