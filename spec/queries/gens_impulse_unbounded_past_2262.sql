--fail=impulse: counter 1: timestamp start + 1 * event_time_interval '2562047h' would be after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds); set message_count to at most 1 or use a smaller event_time_interval
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000000', event_time_interval = '2562047h');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT counter FROM i;
