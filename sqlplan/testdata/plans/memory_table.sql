CREATE TABLE impulse WITH (connector = 'impulse', event_rate = '100', message_count = '10');
CREATE TABLE evens (n BIGINT UNSIGNED);
INSERT INTO evens SELECT counter FROM impulse WHERE counter % 2 = 0;
INSERT INTO evens SELECT counter * 100 FROM impulse WHERE counter % 2 = 1;
SELECT n, n > 10 AS big FROM evens;
