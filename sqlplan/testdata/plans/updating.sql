-- parallelism=3
-- An updating (debezium_json) source: read by one subtask, shuffled by its
-- primary key; a filter and a projection keep the change column; a bare
-- SELECT of it prints Debezium JSON; an append-only query into a
-- debezium_json sink is written as creates.
CREATE TABLE changes (
    region TEXT,
    id BIGINT,
    n BIGINT,
    at TIMESTAMP,
    WATERMARK FOR at AS at - INTERVAL '5' SECOND,
    PRIMARY KEY (region, id)
) WITH (connector = 'single_file', path = '/tmp/changes.json', format = 'debezium_json', type = 'source');
CREATE TABLE plain (region TEXT, id BIGINT, n BIGINT) WITH (connector = 'single_file', path = '/tmp/plain.json', format = 'json', type = 'source');
CREATE TABLE plain_out WITH (connector = 'single_file', path = '/tmp/plain_out.json', format = 'debezium_json', type = 'sink');
CREATE TABLE out WITH (connector = 'single_file', path = '/tmp/out.json', format = 'debezium_json', type = 'sink');
INSERT INTO out SELECT region, id, n + 1 AS n FROM changes WHERE n > 2;
INSERT INTO plain_out SELECT region, id, n FROM plain;
SELECT * FROM changes;
