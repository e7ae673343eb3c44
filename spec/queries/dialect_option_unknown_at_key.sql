--fail=dialect_option_unknown_at_key.sql:3:5: impulse: unknown option 'event_rat'
CREATE TABLE i WITH (connector = 'impulse',
    event_rat = '10', message_count = '3');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT counter FROM i;
