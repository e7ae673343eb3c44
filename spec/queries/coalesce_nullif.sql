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
       COALESCE(discount, 0.0) AS discount,
       COALESCE(customer, 'anonymous') AS customer,
       COALESCE(quantity, id, 0) AS q,
       NULLIF(status, 'pending') AS status,
       IF(priority, 'high', 'normal') AS priority
FROM orders;
