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

-- A constant that fails in a branch no row takes is no error (CASE, COALESCE
-- and AND evaluate such branches only for the rows that reach them).
INSERT INTO out SELECT
    id,
    CASE WHEN id > 1000 THEN 1 / 0 ELSE id END AS c,
    coalesce(id, 1 / 0) AS k,
    id < 0 AND 1 / 0 = 1 AS a
FROM orders WHERE id <= 2;
