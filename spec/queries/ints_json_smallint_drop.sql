-- 40000 does not fit SMALLINT: the record is bad data, dropped (and counted).
CREATE TABLE nums (id BIGINT NOT NULL, s SMALLINT) WITH (
    connector = 'single_file',
    path = '$input_dir/ints_bad_smallint.json',
    format = 'json',
    type = 'source',
    bad_data = 'drop'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT id, s FROM nums;
