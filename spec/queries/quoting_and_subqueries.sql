-- comments, quoted identifiers, reserved words as column names, subqueries in FROM
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

/* a block
   comment */
INSERT INTO out
SELECT "key", "value", "end"
FROM (
    SELECT id AS "key", customer AS "value", amount > 10 AS "end" -- trailing comment
    FROM orders
) AS sub
WHERE "key" <= 3;
