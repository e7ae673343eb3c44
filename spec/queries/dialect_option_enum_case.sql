--fail=dialect_option_enum_case.sql:3:58: single_file: invalid value 'SINK' for option 'type': allowed values are 'source', 'sink'; values are case-sensitive: did you mean 'sink'?
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '3');
CREATE TABLE out WITH (connector = 'single_file', type = 'SINK', path = '$output_path');
INSERT INTO out SELECT counter FROM i;
