--fail=error_unknown_option.sql:4:5: single_file: unknown option 'paht'
CREATE TABLE input (id BIGINT) WITH (
    connector = 'single_file',
    paht = '$input_dir/orders.json',
    format = 'json'
);
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT id FROM input;
