--fail=queries/error_integer_overflow.sql:21:24: integer overflow in 'big + 1', computing 9223372036854775807 + 1
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

CREATE TABLE nums (big BIGINT) WITH (connector = 'single_file', path = '$input_dir/numbers.json', format = 'json', type = 'source');
INSERT INTO out SELECT big + 1 AS b FROM nums;
