-- Read JSON lines from a file, filter, compute, cast, and print JSON lines.
-- Run from the repository root:  go run ./cmd/arroyo run examples/orders.sql
CREATE TABLE orders (
    id BIGINT NOT NULL,
    customer TEXT,
    amount DOUBLE,
    quantity INT,
    status TEXT,
    created TIMESTAMP,
    discount DOUBLE
) WITH (
    connector = 'single_file',
    path = 'examples/data/orders.json',
    format = 'json',
    type = 'source'
);

SELECT id,
       COALESCE(upper(customer), 'ANONYMOUS') AS customer,
       amount * quantity * (1 - COALESCE(discount, 0)) AS total,
       CASE WHEN amount >= 100 THEN 'large' ELSE 'small' END AS size,
       created + INTERVAL '1' DAY AS due
FROM orders
WHERE status = 'shipped' OR quantity IS NULL;
