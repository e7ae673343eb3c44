-- An integer literal takes the other operand's type only when it is written
-- bare: under an explicit cast it keeps the cast's type, and as a function
-- argument it keeps BIGINT (round's and trunc's decimal places).
CREATE TABLE t (id BIGINT, x DOUBLE, i INT, u INT UNSIGNED) WITH (
    connector = 'single_file',
    path = '$input_dir/exprs_ints.json',
    format = 'json',
    type = 'source'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT
    id,
    round(x, 2) AS round2,
    round(x, 0) AS round0,
    trunc(x, 1) AS trunc1,
    trunc(x) AS trunc0,
    i * 2::BIGINT AS i_twice,
    i * CAST(2 AS BIGINT) AS i_twice_cast,
    u - 6::BIGINT AS u_minus,
    u + 1 AS u_plus
FROM t;
