--fail=dialect_duplicate_alias.sql:4:53: the query has two columns named 'n'
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '3');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT counter AS n, counter + 1 AS n FROM i;
