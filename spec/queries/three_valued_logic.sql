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

-- SQL three-valued logic: NULL AND FALSE = FALSE, NULL OR TRUE = TRUE
INSERT INTO out
SELECT id,
       priority AND discount > 0.2 AS p_and,
       priority OR discount > 0.2 AS p_or,
       NOT priority AS not_p,
       priority IS NULL AS p_null,
       discount IS NOT NULL AS has_discount,
       priority IS TRUE AS p_true,
       priority IS NOT FALSE AS p_not_false
FROM orders;
