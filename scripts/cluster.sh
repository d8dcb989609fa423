#!/usr/bin/env bash
# cluster.sh tries the server-backed deployment on one machine: it starts the servers
# (scripts/servers.sh: PostgreSQL for the shared state, Neo4j for the graph, Weaviate for text and
# vectors) and two fixgraph replicas on them, as two hosts behind a load balancer would run.
#
#   scripts/cluster.sh start [FLAG…]   start everything, load the demo corpus once, print the
#                                      addresses; FLAGs go to each `fixgraph serve`
#   scripts/cluster.sh stop    stop the replicas and the servers (their data goes with them)
#
# The replicas listen on 127.0.0.1:8081 and :8082 (FIXGRAPH_CLUSTER_PORTS="8081 8082"); their
# logs and data directories are in .cache/cluster. On real hosts each replica gets the same
# FIXGRAPH_STATE, FIXGRAPH_GRAPH, FIXGRAPH_VECTORS, FIXGRAPH_MFA_KEY and FIXGRAPH_AUDIT_KEY,
# and nothing else is shared: see README.md, "Running on servers".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
run=$root/.cache/cluster
ports=${FIXGRAPH_CLUSTER_PORTS:-8081 8082}

log() { echo "cluster.sh: $*" >&2; }

start() {
	mkdir -p "$run"
	"$root/scripts/servers.sh" start >"$run/servers.env"
	(cd "$root" && make -s build)
	# The keys every replica must share, made once for this try-out.
	if [ ! -f "$run/keys.env" ]; then
		umask 077
		{
			echo "FIXGRAPH_MFA_KEY=$(openssl rand -hex 32)"
			echo "FIXGRAPH_AUDIT_KEY=$(openssl rand -hex 32)"
		} >"$run/keys.env"
	fi
	set -a
	# shellcheck disable=SC1091
	. "$run/servers.env"
	# shellcheck disable=SC1091
	. "$run/keys.env"
	set +a
	export FIXGRAPH_STATE=$FIXGRAPH_TEST_POSTGRES FIXGRAPH_GRAPH=$FIXGRAPH_TEST_NEO4J FIXGRAPH_VECTORS=$FIXGRAPH_TEST_WEAVIATE
	local n=0 port
	for port in $ports; do
		n=$((n + 1))
		if [ -f "$run/replica$n.pid" ] && kill -0 "$(cat "$run/replica$n.pid")" 2>/dev/null; then
			continue
		fi
		mkdir -p "$run/replica$n"
		nohup "$root/bin/fixgraph" serve --data "$run/replica$n" --addr "127.0.0.1:$port" \
			--models "${FIXGRAPH_MODELS:-$root/.cache/models}" "$@" >"$run/replica$n.log" 2>&1 &
		echo $! >"$run/replica$n.pid"
		# The first replica loads the demo corpus into the empty graph; the next ones find it.
		for _ in $(seq 1 240); do
			if [ -f "$run/replica$n/serve.addr" ]; then
				break
			fi
			if ! kill -0 "$(cat "$run/replica$n.pid")" 2>/dev/null; then
				log "replica $n stopped; its log:"
				tail -n 30 "$run/replica$n.log" >&2
				exit 1
			fi
			sleep 0.5
		done
		log "replica $n: http://127.0.0.1:$port/ (log: $run/replica$n.log)"
	done
	grep -h -A2 "admin API key" "$run"/replica*.log 2>/dev/null | sed -n 's/^ *\(fgk_.*\)/admin key: \1/p' >&2 || true
	grep -h "admin /" "$run"/replica*.log 2>/dev/null | sed 's/^ */editor: /' >&2 || true
}

stop() {
	local f
	for f in "$run"/replica*.pid; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null || true
		rm -f "$f"
	done
	"$root/scripts/servers.sh" stop
	rm -rf "$run"
}

case "${1:-}" in
start)
	shift
	start "$@"
	;;
stop) stop ;;
*)
	sed -n '2,13p' "$0" >&2
	exit 2
	;;
esac
