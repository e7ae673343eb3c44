-- Copies JSON orders from one Kafka topic to another, exactly once, with
-- each record's partition and offset. Try it against a local broker:
--
--   just kafka        # or: eval "$(conformance/kafka/broker.sh start)"
--   arroyo run examples/kafka/copy.sql
--
-- and produce {"customer_id": 1, "order_id": 7} records to 'orders' (the
-- sink creates 'orders_copy'). KAFKA_BOOTSTRAP defaults nothing: set it,
-- e.g. export KAFKA_BOOTSTRAP=127.0.0.1:9092.
CREATE TABLE orders (
  customer_id INT,
  order_id INT,
  part INT METADATA FROM 'partition',
  off BIGINT METADATA FROM 'offset'
) WITH (
  connector = 'kafka',
  format = 'json',
  bootstrap_servers = '{{KAFKA_BOOTSTRAP}}',
  topic = 'orders',
  type = 'source',
  'source.offset' = 'earliest',
  'source.read_mode' = 'read_committed'
);

CREATE TABLE orders_copy WITH (
  connector = 'kafka',
  format = 'json',
  bootstrap_servers = '{{KAFKA_BOOTSTRAP}}',
  topic = 'orders_copy',
  type = 'sink',
  'sink.commit_mode' = 'exactly_once',
  'sink.key_field' = 'customer_id'
);

INSERT INTO orders_copy SELECT customer_id, order_id, part, off FROM orders;
