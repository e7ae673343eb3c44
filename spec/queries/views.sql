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

CREATE VIEW valued AS
SELECT id, customer, amount * COALESCE(quantity, 0) AS value
FROM orders
WHERE status <> 'cancelled';

CREATE VIEW big_spenders (order_id, who, v) AS
SELECT id, customer, value FROM valued WHERE value > 40;

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT order_id, who, v FROM big_spenders WHERE who IS NOT NULL;
