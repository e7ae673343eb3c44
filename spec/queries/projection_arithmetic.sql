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

-- integer and float arithmetic, integer division truncates, NULL propagates
INSERT INTO out
SELECT id,
       amount * quantity AS total,
       quantity + 1 AS q_plus,
       quantity - 10 AS q_minus,
       id % 3 AS id_mod,
       id / 2 AS id_half,
       amount / 2 AS amount_half,
       -amount AS neg_amount
FROM orders;
