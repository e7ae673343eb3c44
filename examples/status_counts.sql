-- An updating aggregate over a changelog (Debezium JSON, e.g. from a
-- database's CDC): counts per status as orders move between statuses and
-- are deleted. The output is itself a changelog.
CREATE TABLE order_changes (
    id BIGINT NOT NULL PRIMARY KEY, customer TEXT, status TEXT, amount DOUBLE
) WITH (connector = 'single_file', path = 'examples/data/order_changes.json', format = 'debezium_json', type = 'source');

SELECT status, count(*) AS orders, sum(amount) AS total FROM order_changes GROUP BY status;
