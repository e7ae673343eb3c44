--fail=dialect_error_field_of_non_struct.sql:4:24: 'p.name' is TEXT, not a struct: it has no field 'first'
CREATE TABLE t (id BIGINT, p STRUCT<name TEXT, geo STRUCT<lat DOUBLE, lon DOUBLE>>, tags TEXT[]) WITH (connector = 'single_file', path = '$input_dir/nested.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT p.name.first FROM t;
