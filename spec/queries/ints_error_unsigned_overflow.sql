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

-- TINYINT UNSIGNED + 1 stays TINYINT UNSIGNED: 255 + 1 is an error, not 0
-- (nor 256).
INSERT INTO out SELECT id, ut + 1 AS u1 FROM ints;
