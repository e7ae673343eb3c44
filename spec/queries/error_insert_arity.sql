--fail=query has 1 columns but table 'fixed' has 2
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

CREATE TABLE fixed (a BIGINT, b TEXT) WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO fixed SELECT id FROM orders;
