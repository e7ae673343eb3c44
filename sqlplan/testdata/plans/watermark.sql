CREATE TABLE bids (auction BIGINT, price BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'single_file', path = '/tmp/bids.json', format = 'json', type = 'source');
CREATE TABLE late (id BIGINT, at TIMESTAMP, WATERMARK FOR at AS at) WITH (connector = 'single_file', path = '/tmp/late.json', format = 'json', type = 'source');
CREATE TABLE plain (id BIGINT, at TIMESTAMP) WITH (connector = 'single_file', path = '/tmp/plain.json', format = 'json', type = 'source', event_time_field = 'at');
SELECT auction, price FROM bids;
SELECT id FROM late;
SELECT id FROM plain;
