--fail=gens_nexmark_tiny_event_rate.sql:2:58: nexmark: invalid value '5e-324' for option 'event_rate': must be at least 1e-09
CREATE TABLE n WITH (connector = 'nexmark', event_rate = '5e-324');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price FROM n;
