--fail=(of message_count 10) would have a timestamp after 2262-04-11T23:47:16.854775807Z, the latest a TIMESTAMP holds (int64 nanoseconds)
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000000', message_count = '10',
                     event_time_interval = '1000000000s');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT counter FROM i;
