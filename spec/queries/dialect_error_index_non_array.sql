--fail=dialect_error_index_non_array.sql:4:26: cannot index 'id': it is BIGINT, not an array
CREATE TABLE t (id BIGINT, p STRUCT<name TEXT, geo STRUCT<lat DOUBLE, lon DOUBLE>>, tags TEXT[]) WITH (connector = 'single_file', path = '$input_dir/nested.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT id[1] FROM t;
