--fail=ints_bad_smallint.json:2: bad record: field 's': integer 40000 out of range for SMALLINT (-32768 to 32767)
CREATE TABLE nums (id BIGINT NOT NULL, s SMALLINT) WITH (
    connector = 'single_file',
    path = '$input_dir/ints_bad_smallint.json',
    format = 'json',
    type = 'source',
    bad_data = 'fail'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT id, s FROM nums;
