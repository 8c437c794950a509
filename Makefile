# Sluice: a streaming SQL server. `make run` starts it; `make test` is what CI runs.
GO       ?= go
BIN      := bin/sluice
QTT_DIR  ?= $(abspath ../shared/qtt)
export QTT_DIR

.PHONY: run build test test-short bench fmt vet qtt qtt-update conformance docs fuzz clean

build:
	$(GO) build -o $(BIN) ./server/cmd/sluice

run: build
	./$(BIN) --data-dir ./data --http-addr 127.0.0.1:8088 --pg-addr 127.0.0.1:5433

# The whole suite: vet, unit and end-to-end tests (real psql, pgx, Badger, the log on disk,
# kfake), the guarded conformance set, and a short fuzz pass over every parser and decoder.
test: vet
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s

test-short:
	$(GO) test -count=1 -short ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./sql/parse
	$(GO) test -run '^$$' -fuzz '^FuzzParseExpr$$' -fuzztime $(FUZZTIME) ./sql/parse
	$(GO) test -run '^$$' -fuzz '^FuzzSegmentRead$$' -fuzztime $(FUZZTIME) ./storage/segment
	$(GO) test -run '^$$' -fuzz '^FuzzFrontendMessages$$' -fuzztime $(FUZZTIME) ./server/pgwire
	$(GO) test -run '^$$' -fuzz '^FuzzKsqlRequest$$' -fuzztime $(FUZZTIME) ./server/rest

# ksqlDB's query-validation tests: prints `N passed, N failed, N skipped`.
qtt: build
	./$(BIN) test-qtt $(QTT_DIR)

# Regenerate the guarded list of passing cases (a shrinking list is a regression to explain).
qtt-update: build
	./$(BIN) test-qtt --write-passing testdata/qtt/passing.txt --json testdata/qtt/results.json $(QTT_DIR) || true
	./$(BIN) test-qtt --conformance-md docs/conformance.md $(QTT_DIR) >/dev/null || true

conformance: qtt-update

docs:
	$(GO) run ./sql/functions/cmd/gendocs > docs/functions.md

bench: build
	$(GO) run ./storage/cmd/logbench -records 2000000
	$(GO) run ./exec/cmd/enginebench
	$(GO) run ./server/cmd/wirebench

clean:
	rm -rf bin data
