--fail=dialect_stdout_takes_no_options.sql:3:44: stdout: unknown option 'path' (stdout takes no options)
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '3');
CREATE TABLE o WITH (connector = 'stdout', path = '/tmp/x.json');
INSERT INTO o SELECT counter FROM i;
