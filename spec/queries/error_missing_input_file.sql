--fail=no such file or directory
CREATE TABLE input (id BIGINT) WITH (connector = 'single_file', path = '$input_dir/does_not_exist.json', format = 'json');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT id FROM input;
