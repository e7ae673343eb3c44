# Common loops. Every recipe is a plain command you can also type by hand.

# run the tests (what CI runs, minus vet)
test:
    go test ./...

# vet and formatting
lint:
    go vet ./...
    gofmt -l .

# benchmarks: expression kernels, JSON decoding, Nexmark q0-q2 on one core
bench:
    go test -run '^$' -bench . -cpu 1 ./engine/expr/ ./connectors/jsonfmt/ ./connectors/nexmark/ ./spec/

# the quickstart pipeline
run file="examples/nexmark_bids.sql":
    go run ./cmd/arroyo run {{file}}

# rewrite the expected rows of the spec cases whose output differs (review the diff!)
rewrite-golden:
    go test ./spec/ -run TestSpec -rewrite
