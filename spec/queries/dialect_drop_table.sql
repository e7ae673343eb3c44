--fail=dialect_drop_table.sql:3:1: DROP TABLE is not supported
CREATE TABLE i WITH (connector = 'impulse', event_rate = '1000', message_count = '3');
DROP TABLE i;
