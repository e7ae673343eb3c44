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

INSERT INTO out
SELECT id,
       created + INTERVAL '1' HOUR AS plus_hour,
       created - INTERVAL '30 minutes' AS minus_30m,
       created + INTERVAL '1 day' AS plus_day
FROM orders
WHERE created >= '2023-01-02T00:00:00Z' AND created < CAST('2023-01-04 00:00:00' AS TIMESTAMP);
