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
       status IN ('shipped', 'refunded') AS done,
       quantity IN (1, 2, 3) AS small_q,
       quantity NOT IN (1, 2, NULL) AS not_in_with_null,
       amount BETWEEN 5 AND 50 AS mid,
       amount NOT BETWEEN 5 AND 50 AS not_mid
FROM orders;
