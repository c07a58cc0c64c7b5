#!/usr/bin/env bash
# A townhall cluster as local processes on 127.0.0.1, for trying it without Docker
# (README, "Running a cluster"): three NATS servers with JetStream, routed to each
# other, and three townhall nodes that share them and one Postgres database.
#
#   deploy/cluster.sh start    start it (make cluster builds bin/townhall first)
#   deploy/cluster.sh stop     stop it: the nodes (they drain), then NATS
#   deploy/cluster.sh status   what runs
#
# Everything lives under $CLUSTER_DIR (default ./cluster): each process's folder,
# log (a node's log of the run before: townN.log.1) and pid file. The database is $CLUSTER_DB; with the default, the Postgres that
# .ci/run starts, the script creates the database townhall_cluster if it is missing.
#
# Ports: HTTP 8081-8083; NATS clients 4222-4224, routes 6222-6224, monitoring
# 8222-8224; audio UDP 7882/7884/7886 and ICE-TCP 7881/7883/7885, on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${BIN:-bin/townhall}
DIR=${CLUSTER_DIR:-cluster}
DB=${CLUSTER_DB:-postgres://townhall:townhall@127.0.0.1:5432/townhall_cluster?sslmode=disable}
NATS_VERSION=v2.15.3
# Set to a proxy's address (https://localhost:8443, say) to give node N the public
# URL $CLUSTER_PUBLIC_URL/n/townN, as deploy/Caddyfile routes it; empty: each
# node's own http://127.0.0.1:PORT.
PUBLIC_URL=${CLUSTER_PUBLIC_URL:-}
# More flags for every node, e.g. CLUSTER_FLAGS=--open-signup.
read -r -a EXTRA <<<"${CLUSTER_FLAGS:-}"

NODES=(1 2 3)
nats_client() { echo $((4221 + $1)); }
nats_route() { echo $((6221 + $1)); }
nats_monitor() { echo $((8221 + $1)); }
http_port() { echo $((8080 + $1)); }
udp_port() { echo $((7880 + 2 * $1)); }
tcp_port() { echo $((7879 + 2 * $1)); }
relay_port() { echo $((7890 + $1)); }

# shown is a database URL without its password and options, to print.
shown() { sed -E -e 's#\?.*##' -e 's#//([^:/@]*):[^@/]*@#//\1@#' <<<"$1"; }

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# alive reports whether the pid file $1 names a running process whose command line
# holds $2 (a pid reused by something else does not count).
alive() {
	local pid
	[ -f "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# wait_http waits up to $3 seconds for URL $2 to answer 200; $1 names what for,
# and $4 (a pid file) must stay alive meanwhile.
wait_http() {
	local what=$1 url=$2 secs=$3 pidfile=$4 log=$5 i
	for ((i = 0; i < secs * 4; i++)); do
		curl -sf -o /dev/null --max-time 2 "$url" && return 0
		if ! alive "$pidfile" "$what"; then
			say "$what stopped; the end of $log:"
			tail -n 30 "$log" >&2
			return 1
		fi
		sleep 0.25 # waiting for a process to come up, not test synchronisation
	done
	say "$what not ready at $url after ${secs}s; the end of $log:"
	tail -n 30 "$log" >&2
	return 1
}

# nats_server prints the path of nats-server $NATS_VERSION, installing it with go
# install when it is missing or another version.
nats_server() {
	local gobin
	gobin=$("$GO" env GOBIN)
	[ -n "$gobin" ] || gobin="$("$GO" env GOPATH | cut -d: -f1)/bin"
	if ! "$gobin/nats-server" --version 2>/dev/null | grep -q "$NATS_VERSION"; then
		say "installing nats-server $NATS_VERSION into $gobin" >&2
		"$GO" install "github.com/nats-io/nats-server/v2@$NATS_VERSION" >&2
	fi
	echo "$gobin/nats-server"
}

# ensure_db checks that Postgres answers at $DB and creates its database when it is
# missing (with psql, through the same role and the "postgres" database).
ensure_db() {
	case "$DB" in postgres://* | postgresql://*) ;; *) die "CLUSTER_DB must be a postgres:// URL (a cluster shares one Postgres)" ;; esac
	if ! command -v psql >/dev/null; then
		say "no psql here: the database of $DB must exist already"
		return 0
	fi
	local name admin
	name=$(sed -E 's#^[^/]*//[^/]*/([^?]*).*#\1#' <<<"$DB")
	admin=$(sed -E 's#^([^/]*//[^/]*/)[^?]*#\1postgres#' <<<"$DB")
	local err
	if ! err=$(psql "$admin" -qtAc 'SELECT 1' 2>&1 >/dev/null); then
		printf '%s\n' "$err" >&2
		die "no Postgres answers at $(shown "$DB"): start one (.ci/run starts Debian's and creates the role townhall), or set CLUSTER_DB"
	fi
	if [ "$(psql "$admin" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]; then
		say "creating the database $name"
		psql "$admin" -qtAc "CREATE DATABASE \"$name\"" >/dev/null
	fi
}

start() {
	[ -x "$BIN" ] || die "$BIN is missing: make build (make cluster does it)"
	for n in "${NODES[@]}"; do
		if alive "$DIR/town$n.pid" townhall || alive "$DIR/nats$n.pid" nats-server; then
			die "already running (make cluster-stop stops it)"
		fi
	done
	mkdir -p "$DIR"
	ensure_db
	local nats routes urls=""
	nats=$(nats_server)

	for n in "${NODES[@]}"; do
		routes=""
		for m in "${NODES[@]}"; do
			[ "$m" = "$n" ] || routes+="${routes:+,}nats-route://127.0.0.1:$(nats_route "$m")"
		done
		urls+="${urls:+,}nats://127.0.0.1:$(nats_client "$n")"
		mkdir -p "$DIR/nats$n"
		# stdin from /dev/null and its own session: it outlives this script and the
		# terminal's Ctrl-C.
		setsid "$nats" -c deploy/nats.conf --server_name "nats$n" -a 127.0.0.1 -p "$(nats_client "$n")" \
			-m "$(nats_monitor "$n")" -js -sd "$DIR/nats$n" \
			--cluster_name townhall --cluster "nats://127.0.0.1:$(nats_route "$n")" --routes "$routes" \
			-P "$DIR/nats$n.pid" -l "$DIR/nats$n.log" </dev/null >/dev/null 2>&1 &
	done
	for n in "${NODES[@]}"; do
		# /healthz answers 200 once JetStream has its meta leader and is current.
		wait_http nats-server "http://127.0.0.1:$(nats_monitor "$n")/healthz" 30 "$DIR/nats$n.pid" "$DIR/nats$n.log" ||
			die "NATS did not start (make cluster-stop stops what did)"
	done
	say "NATS is up: $urls"

	local url
	for n in "${NODES[@]}"; do
		url="http://127.0.0.1:$(http_port "$n")"
		[ -z "$PUBLIC_URL" ] || url="${PUBLIC_URL%/}/n/town$n"
		[ ! -f "$DIR/town$n.log" ] || mv "$DIR/town$n.log" "$DIR/town$n.log.1" # the run before
		setsid "$BIN" serve --addr "127.0.0.1:$(http_port "$n")" --public-url "$url" --data "$DIR/town$n" \
			--db "$DB" --nats "$urls" --node-name "town$n" --region local \
			--rtc-loopback-only --rtc-udp-port "$(udp_port "$n")" --rtc-tcp-port "$(tcp_port "$n")" \
			--relay-listen "127.0.0.1:$(relay_port "$n")" \
			--shutdown-timeout 10s "${EXTRA[@]}" </dev/null >"$DIR/town$n.log" 2>&1 &
		echo $! >"$DIR/town$n.pid"
	done
	for n in "${NODES[@]}"; do
		# /readyz: the node reaches Postgres and NATS.
		wait_http townhall "http://127.0.0.1:$(http_port "$n")/readyz" 90 "$DIR/town$n.pid" "$DIR/town$n.log" ||
			die "townhall node town$n did not start (make cluster-stop stops what did)"
	done

	say "ready: 3 nodes, 3 NATS servers, database $(shown "$DB")"
	for n in "${NODES[@]}"; do
		printf '  town%s  http://127.0.0.1:%s   log %s\n' "$n" "$(http_port "$n")" "$DIR/town$n.log"
	done
	local first
	first=$(grep -ho 'link=[^ ]*' "$DIR"/town?.log | head -n 1 || true)
	[ -z "$first" ] || say "no account exists yet: create the first (admin) account at ${first#link=}"
	say "stop it with: make cluster-stop"
}

# stop_one sends SIGTERM to the process of pid file $1 (whose command line holds $2)
# and waits up to $3 seconds for it to end, then kills it.
stop_one() {
	local pidfile=$1 what=$2 secs=$3 pid i
	if ! alive "$pidfile" "$what"; then
		rm -f "$pidfile"
		return 0
	fi
	pid=$(cat "$pidfile")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		alive "$pidfile" "$what" || break
		sleep 0.1 # waiting for a process to end
	done
	if alive "$pidfile" "$what"; then
		say "$what ($pid) still running after ${secs}s: killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

stop() {
	[ -d "$DIR" ] || { say "nothing to stop"; return 0; }
	# The nodes first, all at once (each drains for up to its --shutdown-timeout),
	# then NATS, which they need while they drain.
	for n in "${NODES[@]}"; do stop_one "$DIR/town$n.pid" townhall 20 & done
	wait
	for n in "${NODES[@]}"; do stop_one "$DIR/nats$n.pid" nats-server 10 & done
	wait
	say "stopped (data and logs stay in $DIR; the database stays in Postgres)"
}

status() {
	local name what
	for n in "${NODES[@]}"; do
		for name in "nats$n" "town$n"; do
			what=townhall
			[ "${name#nats}" = "$name" ] || what="nats-server"
			if alive "$DIR/$name.pid" "$what"; then
				printf '%-6s running (pid %s)\n' "$name" "$(cat "$DIR/$name.pid")"
			else
				printf '%-6s stopped\n' "$name"
			fi
		done
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
