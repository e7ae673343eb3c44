-- Unary minus on a literal is folded at planning: -9223372036854775808 is the
-- smallest BIGINT (its digits alone are a BIGINT UNSIGNED), with or without a
-- space or parentheses; below the BIGINT range a negative integer literal is a
-- DOUBLE, as in DataFusion.
CREATE TABLE t (id BIGINT, x DOUBLE, i INT, u INT UNSIGNED) WITH (
    connector = 'single_file',
    path = '$input_dir/exprs_ints.json',
    format = 'json',
    type = 'source'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT
    id,
    -9223372036854775808 AS min_bigint,
    - 9223372036854775808 AS min_spaced,
    -(9223372036854775808) AS min_parens,
    -9223372036854775807 - 1 AS min_computed,
    -9223372036854775809 AS below,
    9223372036854775808 AS above,
    id - -5 AS minus_neg,
    u > -1 AS u_gt
FROM t WHERE id = 1;
