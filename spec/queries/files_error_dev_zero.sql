--fail=open input file: /dev/zero is a character device, not a regular file; reading it may never end (set allow_non_regular = 'true' to read it anyway)
CREATE TABLE input (id BIGINT) WITH (connector = 'single_file', path = '/dev/zero', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO out SELECT id FROM input;
