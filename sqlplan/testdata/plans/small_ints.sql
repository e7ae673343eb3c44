CREATE TABLE t (
    t TINYINT, s SMALLINT, s2 INT2, m MEDIUMINT, ut TINYINT UNSIGNED, us SMALLINT UNSIGNED, mu MEDIUMINT UNSIGNED
) WITH (connector = 'single_file', path = '/dev/null', format = 'json', type = 'source');

-- A literal that fits the narrow operand takes its type (no widening); one
-- that does not widens the operation; mixed widths meet in the narrowest
-- type that holds both.
SELECT t + 1 AS a, t + 1000 AS b, ut * 2 AS c, us % 300 AS d, t < ut AS e, s - t AS f, s2 + us AS g,
       CAST(m AS TINYINT) AS h, -ut AS i, mu AS j
FROM t;
