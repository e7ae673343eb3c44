--fail=queries/error_bad_cast.sql:20:24: cannot cast 'alice' to BIGINT in 'CAST(customer AS BIGINT)'
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

INSERT INTO out SELECT CAST(customer AS BIGINT) AS n FROM orders;
