--fail=queries/exprs_error_constant_overflow.sql:21:28: integer overflow in '2147483647::INT + 1', computing 2147483647 + 1
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

-- The overflow of a constant is reported at planning with its operands.
INSERT INTO out SELECT id, 2147483647::INT + 1 AS n FROM orders WHERE id < 0;
