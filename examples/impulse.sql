-- A counter that ticks 10 times a second; stop it with Ctrl-C.
CREATE TABLE impulse WITH (connector = 'impulse', event_rate = '10');

SELECT counter, counter % 3 = 0 AS fizz, timestamp FROM impulse;
