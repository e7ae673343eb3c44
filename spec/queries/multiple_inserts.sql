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

-- several INSERTs into one sink
INSERT INTO out SELECT id, 'cheap' AS kind FROM orders WHERE amount < 10;
INSERT INTO out SELECT id, 'pricey' AS kind FROM orders WHERE amount >= 100;
INSERT INTO out SELECT id, 'shipped' AS kind FROM orders WHERE status = 'shipped';
