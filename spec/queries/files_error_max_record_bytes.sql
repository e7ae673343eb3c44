--fail=invalid value '0' for option 'max_record_bytes': must be at least 1
CREATE TABLE input (id BIGINT) WITH (connector = 'single_file', path = '$input_dir/orders.json', format = 'json', type = 'source', max_record_bytes = '0');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO out SELECT id FROM input;
