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
       upper(customer) AS up,
       lower(customer) AS low,
       length(customer) AS len,
       substr(status, 1, 3) AS st3,
       customer || '-' || status AS joined,
       concat(customer, '/', status) AS concatenated,
       replace(status, 'p', 'P') AS replaced,
       starts_with(status, 'sh') AS sw
FROM orders;
