-- Nexmark q1 over 20 million generated events into a blackhole sink: a throughput check.
-- time go run ./cmd/arroyo run -p 2 examples/bench_q1.sql
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '1e12', event_count = '20000000');
CREATE TABLE out WITH (connector = 'blackhole');
INSERT INTO out SELECT bid.auction, bid.bidder, bid.price * 0.908 AS price, bid.datetime FROM n WHERE bid IS NOT NULL;
