-- Windowed aggregates: one row per status and day, emitted when the
-- watermark passes the day's end (here, at the end of the file).
CREATE TABLE orders (
    id BIGINT NOT NULL, customer TEXT, amount DOUBLE, quantity INT,
    status TEXT, created TIMESTAMP NOT NULL, discount DOUBLE,
    WATERMARK FOR created AS created - INTERVAL '1 hour'
) WITH (connector = 'single_file', path = 'examples/data/orders.json', format = 'json', type = 'source');

SELECT window.start AS day, status, orders, revenue FROM (
    SELECT tumble(INTERVAL '1' DAY) AS window, status,
           count(*) AS orders, sum(amount * COALESCE(quantity, 0)) AS revenue
    FROM orders
    GROUP BY window, status
);
