CREATE TABLE input (id BIGINT, name TEXT, score INT) WITH (
    connector = 'single_file',
    path = '$input_dir/bad_lines.json',
    format = 'json',
    bad_data = 'drop'
);

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

INSERT INTO out SELECT id, name, score * 2 AS doubled FROM input;
