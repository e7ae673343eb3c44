--fail=queries/exprs_error_constant_division.sql:22:37: division by zero in '1 / 0', computing 1 / 0
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

-- A constant that must fail fails at planning, at its position: no row
-- passes the filter, so it would never fail at run time.
INSERT INTO out SELECT id, amount + 1 / 0 AS boom FROM orders WHERE id < 0;
