# fixgraph: `make run` serves the demo on the embedded stores; `make test` runs every test.
GO    ?= go
BIN   := bin/fixgraph
DATA  ?= data
ADDR  ?= 127.0.0.1:8080
# The real E-Manual corpus (Galaxy S10 site and questions) beside the repository, for the tests
# that crawl and evaluate it; they skip when it is not on the machine.
export FIXGRAPH_EMANUAL ?= $(abspath $(firstword $(wildcard ../shared/corpus/emanual /work/shared/corpus/emanual)))

.PHONY: all build run test fuzz vet loadtest deps models servers servers-stop generate clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/fixgraph

# Fetch what is missing, build, load the demo corpus into an empty store, serve GraphQL.
run: deps models build
	$(BIN) serve --data $(DATA) --addr $(ADDR)

# The stores' contract suites also run against real servers: Neo4j 5, Weaviate and
# PostgreSQL, which scripts/servers.sh installs once and starts on loopback, empty, for the run.
test: deps models
	$(GO) vet ./...
	@mkdir -p .cache && scripts/servers.sh start > .cache/servers.env
	@set -a; . ./.cache/servers.env; set +a; status=0; \
		$(GO) test -count=1 ./... || status=$$?; \
		scripts/servers.sh stop; exit $$status
	$(MAKE) fuzz

# Each fuzz target for a short while; inputs that fail are kept under the package's
# testdata/fuzz/FuzzX and run with every go test from then on. FUZZTIME=3m for a longer look.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseManual$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzParseFAQ$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzParsePDF$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzParseStockLevels$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzParseDOCX$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzParseXLSX$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzParseMarkdown$$' -fuzztime $(FUZZTIME) ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME) ./extract
	$(GO) test -run '^$$' -fuzz '^FuzzSearch$$' -fuzztime $(FUZZTIME) ./search

vet:
	$(GO) vet ./...

# The bounded load test: CLIENTS concurrent clients calling ask through the API for DURATION.
CLIENTS  ?= 32
DURATION ?= 60s
loadtest: models build
	$(BIN) loadtest --clients $(CLIENTS) --duration $(DURATION)

deps:
	@scripts/deps.sh

# Fetch ONNX Runtime and the default embedding model into .cache/models (or FIXGRAPH_MODELS), once;
# MODELS="bge-small-en-v1.5 e5-small-v2 multilingual-e5-small" fetches those instead (search/models.go).
MODELS ?=
models:
	@scripts/fetch-model.sh $(MODELS)

# Install (once, cached in ~/.cache/fixgraph/servers) and start Weaviate, Neo4j and PostgreSQL on loopback for
# the server-backed deployment; prints the FIXGRAPH_TEST_* variables. servers-stop stops them and wipes their data.
servers:
	@scripts/servers.sh start

servers-stop:
	@scripts/servers.sh stop

# Regenerate the GraphQL executor after editing gql/*.graphqls.
generate:
	$(GO) tool gqlgen generate

clean:
	rm -rf bin
