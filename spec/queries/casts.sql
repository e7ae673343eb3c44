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
       CAST(amount AS BIGINT) AS amount_int,
       quantity::TEXT AS q_text,
       CAST(id AS DOUBLE) / 4 AS quarter,
       '42'::BIGINT + id AS forty_two_plus,
       CAST(created AS TEXT) AS created_text,
       CAST('2023-01-02 00:00:00' AS TIMESTAMP) > created AS before_jan2,
       CAST(priority AS TEXT) AS priority_text,
       CAST(CAST(amount AS TEXT) AS DOUBLE) = amount AS round_trip
FROM orders;
