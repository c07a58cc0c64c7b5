# townhall: build, test, and the media server's benchmarks.
#
#   make bench          townhall loadtest against a fresh local server for every size
#                       and talk mode; one JSON file each in $(BENCH_OUT), then a
#                       summary table (summary.md) and the plot (cpu_rss.png)
#   make bench-ladder   the load ladder: each talk mode at BENCH_LADDER fractions of the
#                       machine's ceiling, measured in each run (townhall loadtest --load);
#                       the table, then the highest fraction that was clean
#   make bench-join     the join storm: 1,000 listeners at 100 per second
#   make bench-go       go test's benchmarks of the forwarder (BenchmarkForward*, on an edge too), the relay and of
#                       the media socket (BenchmarkSendmmsg)
#   make cluster        a cluster on loopback: 3 NATS servers, 3 nodes on :8081-8083
#                       (deploy/cluster.sh; README, "Running a cluster")
#   make cluster-stop   stop it
#
# Every run starts its own server on loopback (random media ports, a fresh data
# folder, --open-signup for the speakers' accounts) and stops it afterwards. The
# machine should be otherwise idle: the figures are CPU time per packet.

GO              ?= go
BIN             ?= bin/townhall
BENCH_OUT       ?= bench-results
BENCH_LISTENERS ?= 0 100 500 1000 2000 3000
BENCH_TALK      ?= all turns
BENCH_DURATION  ?= 60s
BENCH_JOIN_RATE ?= 100
BENCH_PORT      ?= 18090
BENCH_PPROF     ?= 127.0.0.1:16090
BENCH_TRANSPORT ?= lean
BENCH_HEAP      ?= 0
BENCH_PTIME     ?= 20ms
BENCH_LADDER    ?= 0.4 0.6 0.8 0.9
BENCH_STEP      ?= 30s

.PHONY: build test bench bench-ladder bench-join bench-go cluster cluster-stop

build:
	$(GO) build -o $(BIN) ./cmd/townhall

test:
	$(GO) vet ./...
	$(GO) test ./...

# A cluster as local processes on 127.0.0.1, in ./cluster: nats-server (installed
# with go install when missing), then 3 nodes sharing $(CLUSTER_DB), which it
# creates with psql when missing. CLUSTER_FLAGS adds flags to every node;
# CLUSTER_PUBLIC_URL, a proxy in front (deploy/Caddyfile), makes node N's public URL
# $(CLUSTER_PUBLIC_URL)/n/townN.
CLUSTER_DB         ?= postgres://townhall:townhall@127.0.0.1:5432/townhall_cluster?sslmode=disable
CLUSTER_FLAGS      ?=
CLUSTER_PUBLIC_URL ?=

cluster: build
	@GO="$(GO)" BIN="$(BIN)" CLUSTER_DB="$(CLUSTER_DB)" CLUSTER_FLAGS="$(CLUSTER_FLAGS)" \
		CLUSTER_PUBLIC_URL="$(CLUSTER_PUBLIC_URL)" deploy/cluster.sh start

cluster-stop:
	@deploy/cluster.sh stop

# bench_one runs one load test: $(1) name, $(2) listeners, $(3) talk mode,
# $(4) join rate, $(5) duration. A CPU profile of the server is taken during the
# measured window; with BENCH_HEAP=1 also a heap profile and the goroutines, which
# force a collection and walk every goroutine's stack inside the window (a pause
# that shows in the p99 latency at thousands of listeners). The JSON has the heap
# in use, stacks and goroutines anyway, from /metrics.
define bench_one
	rm -rf $(BENCH_OUT)/data-$(1); \
	$(BIN) serve --addr 127.0.0.1:$(BENCH_PORT) --data $(BENCH_OUT)/data-$(1) --rtc-loopback-only \
		--rtc-udp-port 0 --rtc-tcp-port 0 --rtc-transport $(BENCH_TRANSPORT) --listener-ptime $(BENCH_PTIME) --open-signup \
		--max-guests-per-ip 0 --max-guests-per-ip-room 0 --max-guests-per-room 0 \
		--pprof $(BENCH_PPROF) --log-level warn 2> $(BENCH_OUT)/$(1).server.log & server=$$!; \
	for i in $$(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:$(BENCH_PORT)/healthz && break; sleep 0.1; done; \
	: the load test measures the floor for about 13 s, joins for N/rate s and waits 2 s: the profile starts about 5 s into the window; \
	profile_at=$$(( $(2) / $(4) + 20 )); \
	( sleep $$profile_at; curl -s -o $(BENCH_OUT)/$(1).server.pprof "http://$(BENCH_PPROF)/debug/pprof/profile?seconds=10"; \
	  if [ "$(BENCH_HEAP)" = 1 ]; then \
	  curl -s -o $(BENCH_OUT)/$(1).heap.pprof "http://$(BENCH_PPROF)/debug/pprof/heap?gc=1"; \
	  curl -s "http://$(BENCH_PPROF)/debug/pprof/goroutine?debug=1" | head -1 > $(BENCH_OUT)/$(1).goroutines.txt; fi ) & profiler=$$!; \
	echo "== $(1): $(2) listeners, talk $(3), $$(uptime | sed 's/.*load/load/')"; \
	$(BIN) loadtest --url http://127.0.0.1:$(BENCH_PORT) --listeners $(2) --talk $(3) --join-rate $(4) \
		--duration $(5) --floor-sockets $(2) --json --quiet > $(BENCH_OUT)/$(1).json; status=$$?; \
	wait $$profiler; kill $$server; wait $$server; rm -rf $(BENCH_OUT)/data-$(1); \
	[ $$status -eq 0 ] || echo "   $(1) failed (status $$status)"
endef

bench: build
	@mkdir -p $(BENCH_OUT)
	@for talk in $(BENCH_TALK); do for n in $(BENCH_LISTENERS); do \
		$(call bench_one,$$talk-$$n,$$n,$$talk,$(BENCH_JOIN_RATE),$(BENCH_DURATION)); \
	done; done
	$(BIN) loadtest --report $(BENCH_OUT) --plot $(BENCH_OUT)/cpu_rss.png > $(BENCH_OUT)/summary.md
	@cat $(BENCH_OUT)/summary.md

# ladder_step runs one step of the ladder: $(1) name, $(2) fraction of the ceiling,
# $(3) talk mode. The load test measures the floor, computes the ceiling, and
# joins that fraction of it.
define ladder_step
	rm -rf $(BENCH_OUT)/ladder/data-$(1); \
	$(BIN) serve --addr 127.0.0.1:$(BENCH_PORT) --data $(BENCH_OUT)/ladder/data-$(1) --rtc-loopback-only \
		--rtc-udp-port 0 --rtc-tcp-port 0 --rtc-transport $(BENCH_TRANSPORT) --listener-ptime $(BENCH_PTIME) --open-signup \
		--max-guests-per-ip 0 --max-guests-per-ip-room 0 --max-guests-per-room 0 \
		--log-level warn 2> $(BENCH_OUT)/ladder/$(1).server.log & server=$$!; \
	for i in $$(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:$(BENCH_PORT)/healthz && break; sleep 0.1; done; \
	echo "== $(1): $(2) of the ceiling, talk $(3), $$(uptime | sed 's/.*load/load/')"; \
	$(BIN) loadtest --url http://127.0.0.1:$(BENCH_PORT) --load $(2) --listener-ptime $(BENCH_PTIME) --talk $(3) \
		--join-rate $(BENCH_JOIN_RATE) --duration $(BENCH_STEP) --json --quiet > $(BENCH_OUT)/ladder/$(1).json; status=$$?; \
	kill $$server; wait $$server; rm -rf $(BENCH_OUT)/ladder/data-$(1); \
	[ $$status -eq 0 ] || echo "   $(1) failed (status $$status)"
endef

bench-ladder: build
	@mkdir -p $(BENCH_OUT)/ladder
	@for talk in $(BENCH_TALK); do for f in $(BENCH_LADDER); do \
		$(call ladder_step,$$talk-$$f,$$f,$$talk); \
	done; done
	$(BIN) loadtest --report $(BENCH_OUT)/ladder > $(BENCH_OUT)/ladder/summary.md
	@cat $(BENCH_OUT)/ladder/summary.md

bench-join: build
	@mkdir -p $(BENCH_OUT)
	@$(call bench_one,join-1000,1000,all,100,10s)

bench-go:
	$(GO) test -run '^$$' -bench 'BenchmarkForward|BenchmarkSend|BenchmarkOpen' -benchmem ./internal/sfu/ ./internal/udpbatch/ ./internal/relay/
