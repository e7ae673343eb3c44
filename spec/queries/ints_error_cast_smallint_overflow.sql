--fail=value 100000 out of range for SMALLINT (-32768 to 32767)
CREATE TABLE ints (
    id BIGINT NOT NULL,
    t TINYINT,
    s SMALLINT,
    ut TINYINT UNSIGNED,
    us SMALLINT UNSIGNED,
    txt TEXT
) WITH (
    connector = 'single_file',
    path = '$input_dir/ints.json',
    format = 'json',
    type = 'source'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT id, CAST(id * 100000 AS SMALLINT) AS x FROM ints;
