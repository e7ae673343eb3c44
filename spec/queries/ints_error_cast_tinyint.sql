--fail=value 300 out of range for TINYINT (-128 to 127)
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

INSERT INTO out SELECT id, CAST(300 AS TINYINT) AS x FROM ints;
