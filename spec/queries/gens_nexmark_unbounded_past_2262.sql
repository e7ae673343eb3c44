--fail=would have timestamps after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds); at most 1434 events fit after base_time 2262-04-11T23:47:16.85Z at event_rate 1e+06: set event_count or an earlier base_time
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '1000000', base_time = '2262-04-11T23:47:16.85Z');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price FROM n;
