-- Orders per customer and minute from Confluent Cloud, written back to a
-- topic. The connection comes from a profile in the config file:
--
--   [connection_profiles.my_cluster]
--   bootstrap_servers = "pkc-xxxxx.us-east-1.aws.confluent.cloud:9092"
--   key = "{{CONFLUENT_KEY}}"
--   secret = "{{CONFLUENT_SECRET}}"
--
--   arroyo --config arroyo.toml run examples/kafka/confluent_counts.sql
CREATE TABLE orders (
  customer_id INT,
  order_id INT,
  ts TIMESTAMP METADATA FROM 'timestamp',
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
  connector = 'confluent',
  connection_profile = 'my_cluster',
  format = 'json',
  topic = 'orders',
  type = 'source'
);

CREATE TABLE counts WITH (
  connector = 'confluent',
  connection_profile = 'my_cluster',
  format = 'json',
  topic = 'order_counts',
  type = 'sink',
  'sink.commit_mode' = 'exactly_once'
);

INSERT INTO counts
SELECT customer_id, count(*) AS orders, TUMBLE(INTERVAL '1' MINUTE) AS w
FROM orders GROUP BY customer_id, w;
