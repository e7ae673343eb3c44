CREATE TABLE nums (a BIGINT, b BIGINT NOT NULL, big BIGINT, x DOUBLE, s TEXT, t TEXT)
WITH (connector = 'single_file', path = '$input_dir/numbers.json', format = 'json', type = 'source');

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out
SELECT a,
       abs(a) AS abs_a,
       round(x) AS round_x,
       floor(x) AS floor_x,
       ceil(x) AS ceil_x,
       sqrt(abs(x)) AS sqrt_x,
       power(b, 2) AS b_squared,
       trim(t) AS trimmed,
       CAST(s AS BIGINT) * 2 AS s_twice
FROM nums;
