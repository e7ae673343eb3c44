--fail=dialect_option_value_case.sql:3:34: unknown connector 'IMPULSE' (available: 
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
CREATE TABLE i WITH (CONNECTOR = 'IMPULSE', event_rate = '1000', message_count = '3');
INSERT INTO out SELECT counter FROM i;
