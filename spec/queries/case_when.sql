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
       CASE WHEN amount >= 100 THEN 'large' WHEN amount >= 10 THEN 'medium' ELSE 'small' END AS size,
       CASE status WHEN 'shipped' THEN 1 WHEN 'pending' THEN 2 END AS status_code,
       CASE WHEN quantity > 0 THEN amount / quantity ELSE 0 END AS unit_price,
       CASE WHEN quantity <> 0 THEN 100 / quantity ELSE -1 END AS per_unit
FROM orders;
