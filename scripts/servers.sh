#!/usr/bin/env bash
# servers.sh installs, starts and stops the real servers that the server-backed deployment is
# tested against: Weaviate (text and vectors) as a cluster of two nodes, Neo4j 5 Community (the
# graph) and PostgreSQL (the shared state). Weaviate is built from source with the Go toolchain;
# Neo4j's jars come from Maven Central through scripts/neo4j/pom.xml and are checked against
# scripts/neo4j/neo4j.sha256; PostgreSQL is Debian's (scripts/deps.sh installs it). Builds and
# jars are kept once in ~/.cache/fixgraph/servers (or $FIXGRAPH_SERVERS), shared by every clone;
# none enters fixgraph's go.mod. PID files, logs, configuration and throw-away data live in the
# clone's .cache/servers.
#
#   scripts/servers.sh build    install what is missing (Weaviate takes a few minutes the first time)
#   scripts/servers.sh start    install, then start them on loopback with empty data, wait
#                               until they answer (and both Weaviate nodes see each other), and
#                               print the variables the tests read (FIXGRAPH_TEST_WEAVIATE for
#                               node1, FIXGRAPH_TEST_WEAVIATE2 for node2, FIXGRAPH_TEST_NEO4J,
#                               FIXGRAPH_TEST_POSTGRES); servers already running are left as they are
#   scripts/servers.sh env      print those variables for servers already started
#   scripts/servers.sh restart neo4j|postgres|weaviate|weaviate2
#                               stop one server and start it again on the same data
#   scripts/servers.sh pause NAME / resume NAME
#                               the two halves of restart, for tests that need a server down a while
#   scripts/servers.sh stop     stop them and remove their data
#   scripts/servers.sh pin      after changing the Neo4j version in scripts/neo4j/pom.xml: resolve
#                               its jars afresh and write their hashes to scripts/neo4j/neo4j.sha256
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${FIXGRAPH_SERVERS:-${XDG_CACHE_HOME:-$HOME/.cache}/fixgraph/servers}
bin=$cache/bin
run=$root/.cache/servers

weaviate_version=v1.35.2
weaviate_bin=$bin/weaviate-server-$weaviate_version

neo4j_pom=$root/scripts/neo4j/pom.xml
neo4j_sums=$root/scripts/neo4j/neo4j.sha256
neo4j_version=$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' "$neo4j_pom")
neo4j_lib=$cache/neo4j-$neo4j_version/lib
neo4j_home=$run/neo4j # conf/, data/ (kept across restarts), logs/, run/
java=${FIXGRAPH_JAVA:-java}

# PostgreSQL refuses to run as root: as root, the cluster runs as the postgres system user.
pg_bin=${FIXGRAPH_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
pg_user=fixgraph
pg_password=fixgraph-test
pg_db=fixgraph_test

# Loopback ports, away from the defaults a developer's own servers use.
weaviate_port=${FIXGRAPH_WEAVIATE_PORT:-18080}
weaviate_grpc=${FIXGRAPH_WEAVIATE_GRPC_PORT:-18051}
weaviate2_port=${FIXGRAPH_WEAVIATE2_PORT:-18090}
weaviate2_grpc=${FIXGRAPH_WEAVIATE2_GRPC_PORT:-18061}
bolt_port=${FIXGRAPH_BOLT_PORT:-17687}
bolt_http=${FIXGRAPH_BOLT_HTTP_PORT:-17474}
bolt_password=fixgraph-test
pg_port=${FIXGRAPH_POSTGRES_PORT:-15432}

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
	if [ ! -d "$neo4j_lib" ]; then
		log "fetching Neo4j $neo4j_version from Maven Central (once)"
		local tmp
		tmp=$(mktemp -d "$cache/neo4j-lib.XXXXXX")
		resolve_neo4j "$tmp"
		if ! verify_neo4j "$tmp"; then
			rm -rf "$tmp"
			log "the jars Maven resolved for Neo4j $neo4j_version differ from scripts/neo4j/neo4j.sha256; nothing installed"
			exit 1
		fi
		mkdir -p "$(dirname "$neo4j_lib")"
		mv "$tmp" "$neo4j_lib"
	fi
	if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
		log "PostgreSQL's initdb is not under /usr/lib/postgresql/*/bin; run scripts/deps.sh (or set FIXGRAPH_PG_BIN)"
		exit 1
	fi
}

# resolve_neo4j DIR: copy the Neo4j server's jars and all they need at run time into DIR.
resolve_neo4j() {
	command -v mvn >/dev/null 2>&1 || {
		log "Maven (mvn) is needed to fetch Neo4j"
		exit 1
	}
	mvn -q -B -Dstyle.color=never -f "$neo4j_pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$1" >&2
}

# verify_neo4j DIR: whether DIR holds exactly the jars listed in neo4j.sha256, with those hashes.
verify_neo4j() {
	[ "$(cd "$1" && ls -1 | sort)" = "$(awk '{print $2}' "$neo4j_sums" | sort)" ] &&
		(cd "$1" && sha256sum --check --strict --quiet "$neo4j_sums" >/dev/null)
}

pin() {
	local tmp
	tmp=$(mktemp -d)
	resolve_neo4j "$tmp"
	(cd "$tmp" && sha256sum -- *.jar) >"$neo4j_sums"
	rm -rf "$tmp"
	log "wrote $(wc -l <"$neo4j_sums") hashes for Neo4j $neo4j_version to scripts/neo4j/neo4j.sha256"
}

# running NAME: whether the server NAME started by this script is still alive.
running() {
	local pid
	[ -f "$run/$1.pid" ] && pid=$(cat "$run/$1.pid") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# wait_for NAME COMMAND...: run COMMAND until it succeeds, for at most 120 s.
wait_for() {
	local name=$1
	shift
	for _ in $(seq 1 240); do
		if ! running "$name"; then
			log "$name exited while starting; its log:"
			tail -n 30 "$(logfile "$name")" >&2
			exit 1
		fi
		if "$@" 2>/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	log "$name was not ready within 120 s; its log is $(logfile "$name")"
	exit 1
}

logfile() {
	case $1 in
	postgres) echo "$pg_dir/postgres.log" ;;
	*) echo "$run/$1.log" ;;
	esac
}

# port_open PORT: whether something on loopback takes connections on PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bolt_answers: whether the Bolt port completes a Bolt handshake (the server picks one of the
# protocol versions 5.0–5.4 offered and answers with it; 0 would mean none).
bolt_answers() {
	local reply
	reply=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "\x60\x60\xb0\x17\x00\x04\x04\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" >&3
		head -c 4 <&3 | od -An -tx1' _ "$bolt_port" | tr -d ' \n')
	[ -n "$reply" ] && [ "$reply" != 00000000 ]
}

# free PORT...: fail clearly when a port is taken by a process this script did not start.
free() {
	local p
	for p in "$@"; do
		if port_open "$p"; then
			log "port $p on 127.0.0.1 is in use by another process; stop it or set FIXGRAPH_WEAVIATE_PORT / FIXGRAPH_WEAVIATE2_PORT / FIXGRAPH_BOLT_PORT / FIXGRAPH_POSTGRES_PORT"
			exit 1
		fi
	done
}

# stop_pid NAME: stop the server NAME by its PID, waiting up to 30 s before killing it.
stop_pid() {
	local pid
	running "$1" || return 0
	pid=$(cat "$run/$1.pid")
	kill "$pid"
	for _ in $(seq 1 120); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$run/$1.pid"
}

# The two Weaviate nodes, node1 (weaviate) and node2 (weaviate2): each takes its HTTP port and
# the next four for gossip, data, Raft and Raft's RPC, plus a gRPC port. Both list both gossip
# ports to join (memberlist needs one that answers, and a node joining itself is fine), so
# either can be restarted alone. CLUSTER_IN_LOCALHOST tells Weaviate that the nodes share a
# host, so that it finds a node's Raft RPC port as that node's Raft port + 1.
#
# A node takes requests only while the schema's Raft log has a leader, and two voters elect
# none with one away. So node1 is the one voter (RAFT_BOOTSTRAP_EXPECT=1 makes the first name of
# RAFT_JOIN the voters) and node2 a non-voting member that holds replicas of the data: with node2
# down, node1 reads and writes on its own, and async replication brings node2 up to date when
# it is back. With node1 down there is no leader: schema changes wait for node1 (a real cluster
# has three voters), while node2 went on reading and writing objects in a short try (untested).
# Each node reads class definitions from its own copy of the schema
# (COLLECTION_RETRIEVAL_STRATEGY=LocalOnly) instead of asking the leader on every request. Async
# replication compares the nodes every 5 s and copies objects older than 2 s (Weaviate's
# defaults are 30 s and 30 s), so that a test sees node2 catch up within seconds.
weaviate_node() {
	case $1 in
	weaviate) echo "node1 $weaviate_port $weaviate_grpc" ;;
	weaviate2) echo "node2 $weaviate2_port $weaviate2_grpc" ;;
	esac
}

# start_weaviate [weaviate|weaviate2]: start one node of the cluster on its own data directory.
start_weaviate() {
	local name=${1:-weaviate} node port grpc
	read -r node port grpc <<<"$(weaviate_node "$name")"
	free "$port" "$grpc" $((port + 1)) $((port + 2)) $((port + 3)) $((port + 4))
	# GOMEMLIMIT keeps two nodes modest on a small shared machine.
	PERSISTENCE_DATA_PATH="$run/$name-data" AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
		DEFAULT_VECTORIZER_MODULE=none CLUSTER_HOSTNAME=$node CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
		CLUSTER_BIND_ADDR=127.0.0.1 CLUSTER_IN_LOCALHOST=true DISABLE_TELEMETRY=true GRPC_PORT=$grpc \
		CLUSTER_GOSSIP_BIND_PORT=$((port + 1)) CLUSTER_DATA_BIND_PORT=$((port + 2)) \
		CLUSTER_JOIN=127.0.0.1:$((weaviate_port + 1)),127.0.0.1:$((weaviate2_port + 1)) \
		RAFT_PORT=$((port + 3)) RAFT_INTERNAL_RPC_PORT=$((port + 4)) \
		RAFT_JOIN=node1:$((weaviate_port + 3)),node2:$((weaviate2_port + 3)) RAFT_BOOTSTRAP_EXPECT=1 \
		COLLECTION_RETRIEVAL_STRATEGY=LocalOnly ASYNC_REPLICATION_FREQUENCY=5s ASYNC_REPLICATION_PROPAGATION_DELAY=2s \
		ENABLE_TOKENIZER_GSE=true QUERY_DEFAULTS_LIMIT=100 GOMEMLIMIT=768MiB \
		nohup "$weaviate_bin" --host 127.0.0.1 --port "$port" --scheme http \
		>>"$run/$name.log" 2>&1 &
	echo $! >"$run/$name.pid"
}

start_weaviate2() { start_weaviate weaviate2; }

# weaviate_members PORT: whether the node on PORT is ready and sees both nodes healthy.
weaviate_members() {
	curl -fsS -o /dev/null "http://127.0.0.1:$1/v1/.well-known/ready" &&
		[ "$(curl -fsS "http://127.0.0.1:$1/v1/nodes" | grep -o '"status":"HEALTHY"' | wc -l)" = 2 ]
}

wait_weaviate() { wait_for weaviate weaviate_members "$weaviate_port"; }

wait_weaviate2() { wait_for weaviate2 weaviate_members "$weaviate2_port"; }

# neo4j_init: write the configuration of an empty Neo4j home and set the initial password, which
# takes effect when the server first starts on its data directory.
neo4j_init() {
	rm -rf "$neo4j_home"
	mkdir -p "$neo4j_home/conf" "$neo4j_home/data" "$neo4j_home/logs" "$neo4j_home/run" "$neo4j_home/import"
	cat >"$neo4j_home/conf/neo4j.conf" <<-EOF
		# Written by scripts/servers.sh: a throw-away Neo4j for fixgraph's tests, on loopback only.
		server.default_listen_address=127.0.0.1
		server.default_advertised_address=127.0.0.1
		server.bolt.listen_address=127.0.0.1:$bolt_port
		server.bolt.advertised_address=127.0.0.1:$bolt_port
		server.http.listen_address=127.0.0.1:$bolt_http
		server.http.advertised_address=127.0.0.1:$bolt_http
		server.https.enabled=false
		dbms.security.auth_enabled=true
		dbms.usage_report.enabled=false
		server.directories.data=$neo4j_home/data
		server.directories.logs=$neo4j_home/logs
		server.directories.run=$neo4j_home/run
		server.directories.import=$neo4j_home/import
		server.directories.plugins=$neo4j_home/plugins
		# The machine has 2 cores and is shared with the tests: a small page cache and heap
		# (the heap is set on the java command line, which this script runs itself).
		server.memory.pagecache.size=256m
		dbms.memory.transaction.total.max=256m
		db.tx_log.rotation.retention_policy=1 files
		# Stop in a second or two, not ten: no waiting for idle Bolt connections to go.
		internal.server.bolt.connection_shutdown_wait_time=1s
		internal.server.bolt.thread_pool_shutdown_wait_time=1s
	EOF
	NEO4J_HOME=$neo4j_home NEO4J_CONF=$neo4j_home/conf \
		"$java" -Xmx256m -cp "$neo4j_lib/*" org.neo4j.cli.AdminTool dbms set-initial-password "$bolt_password" \
		>>"$run/neo4j.log" 2>&1 || {
		log "setting Neo4j's initial password failed; see $run/neo4j.log"
		exit 1
	}
}

start_neo4j() {
	free "$bolt_port" "$bolt_http"
	verify_neo4j "$neo4j_lib" || {
		log "$neo4j_lib no longer matches scripts/neo4j/neo4j.sha256; remove it and run again"
		exit 1
	}
	[ -f "$neo4j_home/conf/neo4j.conf" ] || neo4j_init
	NEO4J_HOME=$neo4j_home NEO4J_CONF=$neo4j_home/conf nohup "$java" \
		-Xms512m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
		--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
		--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
		--enable-native-access=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true \
		-cp "$neo4j_lib/*" org.neo4j.server.CommunityEntryPoint \
		--home-dir="$neo4j_home" --config-dir="$neo4j_home/conf" --console-mode \
		>>"$run/neo4j.log" 2>&1 &
	echo $! >"$run/neo4j.pid"
}

# neo4j_ready: Bolt answers, and so does the HTTP endpoint, which opens once the databases have.
neo4j_ready() { bolt_answers && curl -fsS -o /dev/null "http://127.0.0.1:$bolt_http/"; }

wait_neo4j() { wait_for neo4j neo4j_ready; }

# as_pg COMMAND...: run COMMAND as the user the cluster belongs to.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_dir: where the cluster's data, socket and log live: the clone's .cache/servers, unless its
# user cannot reach it there (a clone under /root, when running as root), then a folder in /tmp
# named after the clone.
pg_dir=$run
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
	pg_dir=/tmp/fixgraph-postgres-$(echo "$run" | sha256sum | cut -c1-12)
fi
pg_data=$pg_dir/postgres-data
pg_socket=$pg_dir/postgres-socket

pg_ctl() { as_pg "$pg_bin/pg_ctl" -D "$pg_data" "$@"; }

# postgres_init: a new cluster with the test role and database.
postgres_init() {
	mkdir -p "$pg_dir"
	rm -rf "$pg_data" "$pg_socket"
	mkdir -m 700 "$pg_data" "$pg_socket"
	: >"$pg_dir/postgres.log"
	[ "$(id -u)" = 0 ] && chown postgres: "$pg_data" "$pg_socket" "$pg_dir/postgres.log"
	as_pg "$pg_bin/initdb" -D "$pg_data" --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=peer --auth-host=scram-sha-256 >>"$pg_dir/postgres.log" 2>&1 || {
		log "initdb failed; see $pg_dir/postgres.log"
		exit 1
	}
	# A throw-away cluster: loopback only, no waiting for the disk (a crash of the machine, not
	# of the server, would lose it, which does not matter here).
	cat >>"$pg_data/postgresql.conf" <<-EOF
		# Written by scripts/servers.sh.
		listen_addresses = '127.0.0.1'
		port = $pg_port
		unix_socket_directories = '$pg_socket'
		fsync = off
		full_page_writes = off
		max_connections = 200
		shared_buffers = 128MB
	EOF
	pg_start
	as_pg "$pg_bin/psql" -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$pg_port" -d postgres >>"$pg_dir/postgres.log" 2>&1 <<-EOF || {
		CREATE ROLE $pg_user LOGIN PASSWORD '$pg_password';
		CREATE DATABASE $pg_db OWNER $pg_user;
	EOF
		log "creating the role and database failed; see $pg_dir/postgres.log"
		exit 1
	}
}

pg_start() {
	pg_ctl -l "$pg_dir/postgres.log" -w -t 60 start >/dev/null || {
		log "PostgreSQL did not start; its log:"
		tail -n 30 "$pg_dir/postgres.log" >&2
		exit 1
	}
	head -n 1 "$pg_data/postmaster.pid" >"$run/postgres.pid"
}

start_postgres() {
	free "$pg_port"
	if [ -f "$pg_data/PG_VERSION" ]; then
		pg_start
	else
		postgres_init
	fi
}

wait_postgres() { wait_for postgres "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -d "$pg_db"; }

stop_postgres() {
	if running postgres; then
		pg_ctl -m fast -w -t 60 stop >/dev/null || stop_pid postgres
	fi
	rm -f "$run/postgres.pid"
}

start() {
	build
	mkdir -p "$run"
	# Each starts empty; they come up side by side, then each is waited for.
	# The Weaviate nodes start (and are removed) together: one cannot join the other's Raft
	# log with empty data.
	if ! running weaviate || ! running weaviate2; then
		stop_pid weaviate
		stop_pid weaviate2
		rm -rf "$run/weaviate-data" "$run/weaviate.log" "$run/weaviate2-data" "$run/weaviate2.log"
		start_weaviate
		start_weaviate2
	fi
	if ! running neo4j; then
		rm -rf "$neo4j_home" "$run/neo4j.log"
		start_neo4j
	fi
	if ! running postgres; then
		rm -rf "$pg_data"
		start_postgres
	fi
	wait_postgres
	wait_weaviate
	wait_weaviate2
	wait_neo4j
	env
}

# pause NAME: stop one server, keeping its data.
pause() {
	case "${1:-}" in
	weaviate | weaviate2 | neo4j) stop_pid "$1" ;;
	postgres) stop_postgres ;;
	*)
		log "which server? weaviate, weaviate2, neo4j or postgres"
		exit 2
		;;
	esac
}

# resume NAME: start one server again on the data it had, and wait until it answers.
resume() {
	mkdir -p "$run"
	case "${1:-}" in
	weaviate) running weaviate || start_weaviate ;;
	weaviate2) running weaviate2 || start_weaviate2 ;;
	neo4j) running neo4j || start_neo4j ;;
	postgres) running postgres || start_postgres ;;
	*)
		log "which server? weaviate, weaviate2, neo4j or postgres"
		exit 2
		;;
	esac
	"wait_$1"
}

env() {
	echo "FIXGRAPH_TEST_WEAVIATE=http://127.0.0.1:$weaviate_port?grpc=127.0.0.1:$weaviate_grpc"
	echo "FIXGRAPH_TEST_WEAVIATE2=http://127.0.0.1:$weaviate2_port?grpc=127.0.0.1:$weaviate2_grpc"
	echo "FIXGRAPH_TEST_NEO4J=bolt://neo4j:$bolt_password@127.0.0.1:$bolt_port"
	echo "FIXGRAPH_TEST_POSTGRES=postgres://$pg_user:$pg_password@127.0.0.1:$pg_port/$pg_db?sslmode=disable"
}

stop() {
	stop_pid weaviate
	stop_pid weaviate2
	stop_pid neo4j
	stop_postgres
	rm -rf "$run/weaviate-data" "$run/weaviate2-data" "$neo4j_home" "$pg_data" "$pg_socket"
	if [ "$pg_dir" != "$run" ]; then
		rm -rf "$pg_dir"
	fi
}

case "${1:-}" in
build) build ;;
start) start ;;
env) env ;;
restart)
	pause "${2:-}"
	resume "${2:-}"
	;;
pause) pause "${2:-}" ;;
resume) resume "${2:-}" ;;
stop) stop ;;
pin) pin ;;
*)
	sed -n '2,24p' "$0" >&2
	exit 2
	;;
esac
