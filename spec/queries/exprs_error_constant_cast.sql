--fail=queries/exprs_error_constant_cast.sql:22:9: cannot cast 'abc' to BIGINT in 'CAST('abc' AS BIGINT)'
CREATE TABLE orders (
    id BIGINT NOT NULL,
    customer TEXT,
    amount DOUBLE,
    quantity INT,
    status TEXT,
    created TIMESTAMP,
    discount DOUBLE,
    priority BOOLEAN
) WITH (
    connector = 'single_file',
    path = '$input_dir/orders.json',
    format = 'json',
    type = 'source'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

-- A cast of a constant that must fail fails at planning, at its position.
INSERT INTO out SELECT
    id, CAST('abc' AS BIGINT) AS n
FROM orders WHERE id < 0;
