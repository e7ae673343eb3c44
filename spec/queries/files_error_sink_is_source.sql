--fail=:4:14: sink table 'out' would overwrite the input of source table 'input': its path
-- Both paths name the case's (temporary) output file, so a planner without the check cannot destroy a repository file.
CREATE TABLE input (id BIGINT) WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'source');
CREATE TABLE out (id BIGINT) WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');
INSERT INTO out SELECT id FROM input;
