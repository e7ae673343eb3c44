--fail=error_invalid_option_value.sql:6:16: invalid value 'skip' for option 'bad_data': allowed values are 'fail', 'drop'
CREATE TABLE input (id BIGINT) WITH (
    connector = 'single_file',
    path = '$input_dir/orders.json',
    format = 'json',
    bad_data = 'skip'
);
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT id FROM input;
