--fail=error_memory_table_cycle.sql:2:14: memory table 'm' reads from itself
CREATE TABLE m (a BIGINT);
CREATE TABLE i WITH (connector = 'impulse', event_rate = '10', message_count = '3');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO m SELECT counter::BIGINT FROM i;
INSERT INTO m SELECT a + 1 FROM m;
INSERT INTO out SELECT a FROM m;
