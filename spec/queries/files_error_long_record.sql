--fail=files_long_record.json:3: record is longer than max_record_bytes = 100 bytes
CREATE TABLE input (id BIGINT, name TEXT) WITH (connector = 'single_file', path = '$input_dir/files_long_record.json', format = 'json', type = 'source', max_record_bytes = '100');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO out SELECT id, name FROM input;
