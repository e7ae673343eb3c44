-- Copies JSON orders from one Kafka topic to another, exactly once, with
-- each record's partition and offset. Try it against a local broker:
--
--   eval "$(conformance/kafka/broker.sh start)"   # a real broker on loopback (just kafka)
--   export KAFKA_BOOTSTRAP=$ARROYO_CONFORMANCE_KAFKA
--   arroyo run examples/kafka/copy.sql
--
-- then produce {"customer_id": 1, "order_id": 7} records to 'orders' (the
-- sink creates 'orders_copy'; read it with isolation.level=read_committed).
-- {{KAFKA_BOOTSTRAP}} is read from the environment when the pipeline
-- starts.
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
