-- WATERMARK FOR sets the event time; the hidden _timestamp column can be selected
CREATE TABLE orders (
    id BIGINT NOT NULL,
    created TIMESTAMP NOT NULL,
    WATERMARK FOR created
) WITH (
    connector = 'single_file',
    path = '$input_dir/orders.json',
    format = 'json',
    type = 'source'
);
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT id, _timestamp AS event_time FROM orders WHERE id < 4;
