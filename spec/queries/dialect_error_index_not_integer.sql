--fail=dialect_error_index_not_integer.sql:4:29: an array index must be an integer, got TEXT: 'a'
CREATE TABLE t (id BIGINT, p STRUCT<name TEXT, geo STRUCT<lat DOUBLE, lon DOUBLE>>, tags TEXT[]) WITH (connector = 'single_file', path = '$input_dir/nested.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT tags['a'] FROM t;
