--fail=queries/exprs_error_row_values.sql:7:8: division by zero in 'a / (b - 3)', computing 10 / 0
-- A run-time error names the expression, its position and the failing row's
-- operands.
CREATE TABLE nums (a BIGINT, b BIGINT) WITH (connector = 'single_file', path = '$input_dir/numbers.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO out SELECT
    b, a / (b - 3) AS q
FROM nums;
