--fail=gens_nexmark_base_time_out_of_range.sql:3:34: nexmark: invalid value '9999-01-01T00:00:00Z' for option 'base_time': must be between 1677-09-21T00:12:43.145224192Z and 2262-04-11T23:47:16.854775807Z, the range of a TIMESTAMP (int64 nanoseconds)
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '10', event_count = '10',
                     base_time = '9999-01-01T00:00:00Z');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price FROM n;
