--fail=integer overflow
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

-- TINYINT + 1 stays TINYINT (as Int8 + Int8 in DataFusion), so 127 + 1
-- overflows; arithmetic is checked, it never wraps to -128.
INSERT INTO out SELECT id, t + 1 AS t1 FROM ints;
