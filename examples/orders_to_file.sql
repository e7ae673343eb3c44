-- The same source written to a file sink whose schema comes from the query.
-- go run ./cmd/arroyo run -p 2 examples/orders_to_file.sql && cat /tmp/arroyo-orders.json
CREATE TABLE orders (id BIGINT, customer TEXT, amount DOUBLE, status TEXT)
WITH (connector = 'single_file', path = 'examples/data/orders.json', format = 'json', type = 'source');

CREATE TABLE shipped WITH (connector = 'single_file', path = '/tmp/arroyo-orders.json', format = 'json', type = 'sink');

INSERT INTO shipped SELECT id, customer, amount::BIGINT AS whole_amount FROM orders WHERE status = 'shipped';
INSERT INTO shipped SELECT id, 'refund: ' || customer, -amount::BIGINT FROM orders WHERE status = 'refunded';
