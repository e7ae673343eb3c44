--fail=error_zero_event_rate.sql:2:58: nexmark: invalid value '0' for option 'event_rate': must be at least 1e-09
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '0');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price FROM n;
