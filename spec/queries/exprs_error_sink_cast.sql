--fail=queries/exprs_error_sink_cast.sql:23:26: value 1000000000000 out of range for INT (-2147483648 to 2147483647) in 'id * 1000000000000' (column 'n' of sink 'small' is INT)
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

-- The implicit cast into a sink column names the query's expression, its
-- position, the value and the sink column.
CREATE TABLE small (n INT) WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO small SELECT id * 1000000000000 FROM orders;
