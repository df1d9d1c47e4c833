# Makefile - builds the three programs of the articles platform into bin/,
# and runs the tests and benchmarks. `make help` lists the targets.
#
# One pattern rule compiles every .c into $(O)/ with its dependencies
# generated (-MMD). `make SAN=1` builds the same sources with AddressSanitizer
# and UndefinedBehaviorSanitizer into build/san/ instead.

VERSION := 0.1.0
CC      ?= cc
PKGS    := libmicrohttpd libcjson sqlite3 libpq libcurl rdkafka

ifeq ($(FUZZ),1)
CC       := clang
O        := build/fuzz
BIN      := build/fuzz/bin
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize-recover=all
else ifeq ($(SAN),1)
O        := build/san
BIN      := build/san/bin
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# Every report of every process the tests start goes to a file there, and
# sanitizer-check fails on any: a leak or a bad access also counts in a
# process whose exit status no test reads.
SAN_LOGS := $(CURDIR)/$(O)/sanitizer-logs
export ASAN_OPTIONS  := detect_leaks=1:log_path=$(SAN_LOGS)/asan
export UBSAN_OPTIONS := print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan
SAN_SHOW := || { sh tests/check-sanitizer-logs.sh $(SAN_LOGS); exit 1; }
else
O        := build/release
BIN      := bin
OPTFLAGS := -O2 -g
endif

CFLAGS  := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla \
           -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -MMD -MP -Ilib -Irest -Igraphql -Isync -I$(O)/gen \
           $(OPTFLAGS) $(shell pkg-config --cflags $(PKGS)) $(EXTRA_CFLAGS)
LDFLAGS := $(OPTFLAGS) $(EXTRA_LDFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

LIB_SRCS  := lib/buf.c lib/utf8.c lib/num.c lib/log.c lib/config.c lib/json.c lib/metrics.c \
             lib/http_server.c lib/problem.c lib/breaker.c lib/http_client.c \
             lib/upstream_metrics.c lib/trace.c lib/ops.c
REST_SRCS := rest/article.c rest/decode.c rest/query.c rest/api.c rest/auth.c rest/store.c \
             rest/store_sqlite.c rest/store_pg.c rest/writer.c
GQL_SRCS  := graphql/arena.c graphql/ast.c graphql/lexer.c graphql/parser.c graphql/printer.c \
             graphql/request.c graphql/schema.c graphql/validate.c graphql/validate_rules.c \
             graphql/validate_values.c graphql/validate_overlap.c graphql/validate_util.c \
             graphql/values.c graphql/introspection.c graphql/execute.c graphql/resolvers.c \
             graphql/server.c graphql/cors.c graphql/playground.c graphql/playground_assets.c
SYNC_SRCS := sync/source.c sync/source_sqlite.c sync/source_pg.c sync/event.c sync/changes.c \
             sync/applier.c sync/capture.c sync/pipeline.c sync/pipeline_kafka.c sync/kafka.c \
             sync/verify.c sync/report.c
REST_GEN  := $(O)/gen/schema_sqlite.c $(O)/gen/schema_pg.c $(O)/gen/openapi_json.c

GQL_GEN   := $(O)/gen/articles_graphql.c
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
REST_OBJS := $(REST_SRCS:%.c=$(O)/%.o) $(REST_GEN:.c=.o)
GQL_OBJS  := $(GQL_SRCS:%.c=$(O)/%.o) $(GQL_GEN:.c=.o)
SYNC_OBJS := $(SYNC_SRCS:%.c=$(O)/%.o)

UNIT_TESTS := test_buf test_utf8 test_num test_config test_json test_metrics test_decode \
              test_query test_store test_breaker test_http_client test_gql_lexer test_gql_parser \
              test_gql_request test_gql_schema test_gql_validate test_gql_execute \
              test_gql_resolvers test_gql_cors test_sync_source test_sync_event test_sync_kafka test_sync_applier \
              test_auth test_ops test_trace
UNIT_BINS  := $(UNIT_TESTS:%=$(O)/tests/%)

PROGRAMS := $(BIN)/articles-rest $(BIN)/articles-graphql $(BIN)/articles-sync

FUZZ_TARGETS := fuzz_json fuzz_decode fuzz_config fuzz_http fuzz_gql_parse fuzz_gql_validate \
                fuzz_event fuzz_gql_lexer fuzz_sdl fuzz_route fuzz_dburl
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(O)/fuzzers/%)
FUZZ_SECONDS ?= 60

.PHONY: all help run test unit blackbox bench bench-smoke check-prometheus check-kafka fuzz \
        fuzz-run fuzz-smoke clean deps sanitizer-reset sanitizer-check
all: $(PROGRAMS)

help:
	@echo "make            build bin/articles-rest (and the other programs)"
	@echo "make run        build and run the system on its embedded default (SQLite)"
	@echo "make test       install what is missing, build, run every test (also under ASan/UBSan)"
	@echo "make bench      run the benchmarks in bench/ (servers with wrk and an nginx baseline; the sync daemon)"
	@echo "make fuzz       run every libFuzzer target for FUZZ_SECONDS (60) each"
	@echo "make SAN=1      build with AddressSanitizer and UndefinedBehaviorSanitizer into build/san/"
	@echo "make clean      remove build/ and bin/"

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# The SQL schema and the OpenAPI document have one source each in schema/;
# they are compiled into the binary so it runs from any directory.
$(O)/gen/schema_sqlite.c: schema/sqlite.sql scripts/embed.sh
	@mkdir -p $(@D)
	sh scripts/embed.sh schema_sqlite $< > $@
$(O)/gen/schema_pg.c: schema/postgresql.sql scripts/embed.sh
	@mkdir -p $(@D)
	sh scripts/embed.sh schema_pg $< > $@
$(O)/gen/openapi.json: schema/openapi.yaml scripts/yaml2json.py
	@mkdir -p $(@D)
	python3 scripts/yaml2json.py $< $@
$(O)/gen/openapi_json.c: $(O)/gen/openapi.json scripts/embed.sh
	sh scripts/embed.sh openapi_json $< > $@
$(O)/gen/articles_graphql.c: schema/articles.graphql scripts/embed.sh
	@mkdir -p $(@D)
	sh scripts/embed.sh articles_graphql $< > $@
$(O)/gen/%.o: $(O)/gen/%.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/articles-rest: $(O)/rest/main.o $(REST_OBJS) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The playground's scripts come from the npm registry (pinned and checked),
# then the assembler includes them into the binary.
build/playground/.fetched: scripts/fetch-playground.sh
	sh scripts/fetch-playground.sh build/playground
	touch $@
$(O)/graphql/playground_assets.o: build/playground/.fetched graphql/playground.html

$(BIN)/articles-graphql: $(O)/graphql/main.o $(GQL_OBJS) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/articles-sync: $(O)/sync/main.o $(SYNC_OBJS) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Each unit test links the module it tests with all the modules (not mains)
# and the tests' own helpers.
UNIT_HELPERS := $(O)/tests/unit/inproc_rest.o
$(O)/tests/%: $(O)/tests/unit/%.o $(UNIT_HELPERS) $(GQL_OBJS) $(REST_OBJS) $(SYNC_OBJS) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# libFuzzer targets (built with FUZZ=1, which selects clang).
$(O)/fuzzers/%: $(O)/tests/fuzz/%.o $(GQL_OBJS) $(REST_OBJS) $(SYNC_OBJS) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The benchmark's floor: a forwarding proxy on libmicrohttpd and libcurl alone.
$(O)/bench/proxy: $(O)/bench/peers/proxy/proxy.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-run: $(FUZZ_BINS)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# `make fuzz FUZZ_SECONDS=600` for a campaign; make test runs 10 s of each.
fuzz:
	$(MAKE) FUZZ=1 fuzz-run FUZZ_SECONDS=$(FUZZ_SECONDS)

fuzz-smoke:
	$(MAKE) FUZZ=1 fuzz-run FUZZ_SECONDS=10

run:
	sh scripts/install-deps.sh build
	$(MAKE) all
	ARTICLES_BIN=$(BIN) sh scripts/run.sh

deps:
	sh scripts/install-deps.sh

# The events the codec's tests write must also pass the JSON Schema.
unit: $(UNIT_BINS)
	sh tests/run-unit.sh $(UNIT_BINS)
	EVENT_SAMPLES_OUT=$(O)/event-samples.jsonl $(O)/tests/test_sync_event > /dev/null
	python3 tests/unit/check_event_schema.py < $(O)/event-samples.jsonl

blackbox: $(PROGRAMS)
	ARTICLES_BIN=$(BIN) sh tests/run-blackbox.sh $(SAN_SHOW)
	ARTICLES_BIN=$(BIN) python3 -m pytest -q tests/graphql/diff.py tests/graphql/test_http.py \
	    tests/graphql/test_gateway.py tests/graphql/test_playground.py \
	    tests/graphql/test_abuse.py tests/graphql/test_batch.py tests/graphql/test_ops_endpoints.py \
	    $(SAN_SHOW)
	ARTICLES_BIN=$(BIN) python3 -m pytest -q tests/catalogue $(SAN_SHOW)

# With SAN=1: forget the reports of earlier runs; fail on any of this one.
sanitizer-reset:
	@test -n "$(SAN_LOGS)" || { echo "make SAN=1 $@"; exit 2; }
	rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)

sanitizer-check:
	@test -n "$(SAN_LOGS)" || { echo "make SAN=1 $@"; exit 2; }
	sh tests/check-sanitizer-logs.sh $(SAN_LOGS)

# A one-second run of each benchmark: it must work, whatever the figures.
bench-smoke: all $(O)/bench/proxy
	BENCH_DURATION=1 ARTICLES_BIN=$(BIN) BENCH_PROXY=$(O)/bench/proxy sh bench/run.sh
	BENCH_SYNC_ROWS=2000 BENCH_SYNC_SECONDS=3 ARTICLES_BIN=$(BIN) sh bench/sync.sh
	BENCH_ABUSE_SECONDS=3 ARTICLES_BIN=$(BIN) python3 bench/abuse.py

# The Prometheus configuration, its rules and the rules' unit tests.
check-prometheus:
	promtool check config prometheus.yml
	promtool check rules prometheus/rules.yml
	promtool test rules tests/prometheus/rules_test.yml

# The real Kafka broker the sync tests use: fetched from Maven Central into a
# cache outside the repository, started in KRaft mode, checked with kcat.
check-kafka:
	sh tests/scripts/test_kafka_script.sh

# The whole suite: release build, then the same again under the sanitizers.
test: deps
	$(MAKE) check-prometheus check-kafka all unit blackbox bench-smoke
	$(MAKE) SAN=1 sanitizer-reset all unit blackbox sanitizer-check
	$(MAKE) fuzz-smoke

bench: all $(O)/bench/proxy
	BENCH_PROXY=$(O)/bench/proxy sh bench/run.sh
	sh bench/sync.sh
	ARTICLES_BIN=$(BIN) python3 bench/abuse.py

clean:
	rm -rf build bin

# Keep the objects of the unit tests, which make would see as intermediate.
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
