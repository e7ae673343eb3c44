-- A UTF-8 byte-order mark at the start of a data file is skipped.
CREATE TABLE input (id BIGINT, name TEXT) WITH (connector = 'single_file', path = '$input_dir/files_bom.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO out SELECT id, name FROM input;
