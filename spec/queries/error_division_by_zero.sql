--fail=queries/error_division_by_zero.sql:20:28: division by zero in 'id / (quantity - quantity)', computing 
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

INSERT INTO out SELECT id, id / (quantity - quantity) AS boom FROM orders;
