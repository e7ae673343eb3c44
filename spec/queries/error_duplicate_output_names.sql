--fail=error_duplicate_output_names.sql:4:35: the query has two columns named 'price'; give one an alias (AS ...)
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '50');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price, bid.price FROM n WHERE bid IS NOT NULL;
