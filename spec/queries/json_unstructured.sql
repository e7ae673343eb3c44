-- json.unstructured: the whole record in one JSON column, `value` by default
CREATE TABLE raw WITH (
    connector = 'single_file',
    path = '$input_dir/unstructured.json',
    format = 'json',
    'json.unstructured' = 'true',
    type = 'source'
);
CREATE TABLE out (doc TEXT) WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT CAST(value AS TEXT) FROM raw;
