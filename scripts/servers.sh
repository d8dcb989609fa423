#!/usr/bin/env bash
# servers.sh builds, starts and stops the real servers that the server-backed deployment is
# tested against: Weaviate (text and vectors) and NornicDB, a Bolt server standing in for
# Neo4j 5, which cannot be installed from the registries these machines reach. Both are built
# from source with the Go toolchain once and kept in ~/.cache/fixgraph/servers (or
# $FIXGRAPH_SERVERS), shared by every clone; neither enters fixgraph's go.mod. Their PID files,
# logs and throw-away data live in the clone's .cache/servers.
#
#   scripts/servers.sh build    build what is missing (Weaviate takes a few minutes the first time)
#   scripts/servers.sh start    build, then start both on loopback with throw-away data
#                               directories, wait until they answer, and print the variables
#                               the tests read (FIXGRAPH_TEST_WEAVIATE, FIXGRAPH_TEST_NEO4J)
#   scripts/servers.sh env      print those variables for servers already started
#   scripts/servers.sh stop     stop them by PID and remove their data
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${FIXGRAPH_SERVERS:-${XDG_CACHE_HOME:-$HOME/.cache}/fixgraph/servers}
bin=$cache/bin
run=$root/.cache/servers

weaviate_version=v1.35.2
nornicdb_version=v1.2.3
weaviate_bin=$bin/weaviate-server-$weaviate_version
nornicdb_bin=$bin/nornicdb-$nornicdb_version

# Loopback ports, away from the defaults a developer's own servers use.
weaviate_port=${FIXGRAPH_WEAVIATE_PORT:-18080}
weaviate_grpc=${FIXGRAPH_WEAVIATE_GRPC_PORT:-18051}
bolt_port=${FIXGRAPH_BOLT_PORT:-17687}
bolt_http=${FIXGRAPH_BOLT_HTTP_PORT:-17474}
bolt_password=fixgraph-test

log() { echo "servers.sh: $*" >&2; }

build() {
	mkdir -p "$bin"
	if [ ! -x "$weaviate_bin" ]; then
		log "building Weaviate $weaviate_version (a few minutes, once)"
		local tmp
		tmp=$(mktemp -d)
		GOBIN=$tmp CGO_ENABLED=0 go install "github.com/weaviate/weaviate/cmd/weaviate-server@$weaviate_version"
		mv "$tmp/weaviate-server" "$weaviate_bin"
		rm -rf "$tmp"
	fi
	if [ ! -x "$nornicdb_bin" ]; then
		log "building NornicDB $nornicdb_version (once)"
		local dir
		dir=$(cd "$(mktemp -d)" && GOWORK=off GOFLAGS= go mod download -json "github.com/orneryd/nornicdb@$nornicdb_version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		if [ -z "$dir" ] || [ ! -d "$dir" ]; then
			log "could not download github.com/orneryd/nornicdb@$nornicdb_version"
			exit 1
		fi
		(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -tags 'noui nolocalllm' -o "$nornicdb_bin.tmp" ./cmd/nornicdb)
		mv "$nornicdb_bin.tmp" "$nornicdb_bin"
	fi
}

# running NAME: whether the server NAME started by this script is still alive.
running() {
	local pid
	[ -f "$run/$1.pid" ] && pid=$(cat "$run/$1.pid") && kill -0 "$pid" 2>/dev/null
}

# wait_for NAME COMMAND...: run COMMAND until it succeeds, for at most 120 s.
wait_for() {
	local name=$1
	shift
	for _ in $(seq 1 240); do
		if ! running "$name"; then
			log "$name exited while starting; its log:"
			tail -n 30 "$run/$name.log" >&2
			exit 1
		fi
		if "$@" 2>/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	log "$name was not ready within 120 s; its log is $run/$name.log"
	exit 1
}

# port_open PORT: whether something on loopback takes connections on PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bolt_open() { port_open "$bolt_port"; }

# free PORT...: fail clearly when a port is taken by a process this script did not start.
free() {
	local p
	for p in "$@"; do
		if port_open "$p"; then
			log "port $p on 127.0.0.1 is in use by another process; stop it or set FIXGRAPH_WEAVIATE_PORT / FIXGRAPH_BOLT_PORT"
			exit 1
		fi
	done
}

start() {
	build
	mkdir -p "$run"
	if ! running weaviate; then
		free "$weaviate_port" "$weaviate_grpc"
		rm -rf "$run/weaviate-data"
		PERSISTENCE_DATA_PATH="$run/weaviate-data" AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
			DEFAULT_VECTORIZER_MODULE=none CLUSTER_HOSTNAME=node1 CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
			CLUSTER_BIND_ADDR=127.0.0.1 DISABLE_TELEMETRY=true GRPC_PORT=$weaviate_grpc \
			CLUSTER_GOSSIP_BIND_PORT=$((weaviate_port + 1)) CLUSTER_DATA_BIND_PORT=$((weaviate_port + 2)) \
			RAFT_PORT=$((weaviate_port + 3)) RAFT_INTERNAL_RPC_PORT=$((weaviate_port + 4)) \
			RAFT_BOOTSTRAP_EXPECT=1 ENABLE_TOKENIZER_GSE=true QUERY_DEFAULTS_LIMIT=100 \
			nohup "$weaviate_bin" --host 127.0.0.1 --port "$weaviate_port" --scheme http \
			>"$run/weaviate.log" 2>&1 &
		echo $! >"$run/weaviate.pid"
	fi
	if ! running nornicdb; then
		free "$bolt_port" "$bolt_http"
		rm -rf "$run/nornicdb-data"
		NEO4J_AUTH="neo4j/$bolt_password" NORNICDB_DEFAULT_DATABASE=neo4j \
			NORNICDB_TELEMETRY_LISTEN=127.0.0.1:$((bolt_http + 1)) \
			nohup "$nornicdb_bin" serve --address 127.0.0.1 --bolt-port "$bolt_port" --http-port "$bolt_http" \
			--data-dir "$run/nornicdb-data" --headless --mcp-enabled=false \
			>"$run/nornicdb.log" 2>&1 &
		echo $! >"$run/nornicdb.pid"
	fi
	wait_for weaviate curl -fsS -o /dev/null "http://127.0.0.1:$weaviate_port/v1/.well-known/ready"
	wait_for nornicdb bolt_open
	env
}

env() {
	echo "FIXGRAPH_TEST_WEAVIATE=http://127.0.0.1:$weaviate_port?grpc=127.0.0.1:$weaviate_grpc"
	echo "FIXGRAPH_TEST_NEO4J=bolt://neo4j:$bolt_password@127.0.0.1:$bolt_port"
}

stop() {
	local name pid
	for name in weaviate nornicdb; do
		if running "$name"; then
			pid=$(cat "$run/$name.pid")
			kill "$pid"
			for _ in $(seq 1 40); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.25
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -rf "$run/$name.pid" "$run/$name-data"
	done
}

case "${1:-}" in
build) build ;;
start) start ;;
env) env ;;
stop) stop ;;
*)
	sed -n '2,14p' "$0" >&2
	exit 2
	;;
esac
