--fail=gens_tiny_event_rate.sql:2:58: impulse: invalid value '1e-10' for option 'event_rate': must be at least 1e-09
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1e-10', message_count = '5');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT counter FROM i;
