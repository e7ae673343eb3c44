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

-- AND binds tighter than OR; rows where the condition is NULL are dropped
INSERT INTO out
SELECT id, status
FROM orders
WHERE status = 'shipped' AND amount > 20 OR quantity IS NULL OR discount >= 0.5;
