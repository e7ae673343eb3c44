--fail=gens_nexmark_event_count_past_2262.sql:3:72: nexmark: invalid value '20000' for option 'event_count': event 13523 would have timestamps after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds); at most 13523 events fit after base_time 2262-04-11T23:47:00Z at event_rate 1000
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '1000',
                     base_time = '2262-04-11T23:47:00Z', event_count = '20000');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price FROM n;
