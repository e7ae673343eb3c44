--fail=dialect_error_unknown_field.sql:4:32: struct 't.p.geo' has no field 'alt' (fields: lat, lon)
CREATE TABLE t (id BIGINT, p STRUCT<name TEXT, geo STRUCT<lat DOUBLE, lon DOUBLE>>, tags TEXT[]) WITH (connector = 'single_file', path = '$input_dir/nested.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT t.p.geo.alt FROM t;
