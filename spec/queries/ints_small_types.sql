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

-- TINYINT, SMALLINT and their UNSIGNED forms are 8- and 16-bit: values at
-- their bounds read and compute exactly; mixed widths meet in the narrowest
-- type that holds both; a literal that does not fit the narrow type widens.
INSERT INTO out
SELECT id,
       CAST(100 AS TINYINT) AS hundred,
       t, s, ut, us,
       CAST(t AS SMALLINT) * 2 AS t_doubled,
       t + 1000 AS t_wide,
       s - ut AS s_minus_ut,
       t < ut AS t_lt_ut,
       CAST(txt AS TINYINT) AS txt_tiny,
       CAST(us AS TEXT) AS us_text,
       CAST(ut AS DOUBLE) / 2 AS half_ut,
       CASE WHEN t > 0 THEN t ELSE ut END AS t_or_ut,
       t IN (5, 127) AS t_in,
       abs(CAST(t AS SMALLINT)) AS t_abs,
       CAST(3.9 AS TINYINT) AS three
FROM ints;
