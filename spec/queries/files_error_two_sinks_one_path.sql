--fail=:4:14: sink tables 'a' and 'b' both write path
CREATE TABLE input (id BIGINT, customer TEXT) WITH (connector = 'single_file', path = '$input_dir/orders.json', format = 'json', type = 'source');
CREATE TABLE a WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
CREATE TABLE b WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO a SELECT id FROM input;
INSERT INTO b SELECT id FROM input;
