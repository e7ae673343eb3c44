--fail=unknown connector 'kafkaa'
CREATE TABLE input (id BIGINT) WITH (connector = 'kafkaa', topic = 'x');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT id FROM input;
