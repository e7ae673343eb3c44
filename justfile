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

# a real Apache Kafka broker on 127.0.0.1 (PLAINTEXT, SASL PLAIN/SCRAM, SSL, SASL_SSL), fetched
# from Maven Central once: `eval "$(just kafka)"` sets the ARROYO_CONFORMANCE_* env; `just kafka stop`
kafka action="start":
    conformance/kafka/broker.sh {{action}}

# the quickstart pipeline
run file="examples/nexmark_bids.sql":
    go run ./cmd/arroyo run {{file}}

# rewrite the expected rows of the spec cases whose output differs (review the diff!)
rewrite-golden:
    go test ./spec/ -run TestSpec -rewrite
