--fail=option 'event_rate' is required
CREATE TABLE nexmark WITH (connector = 'nexmark', event_count = '10');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT bid.price FROM nexmark;
