-- parallelism=3: single_file reads with 3 subtasks (byte ranges) and writes with one, calcs run at 3
CREATE TABLE src (id BIGINT, name TEXT, ts TIMESTAMP, WATERMARK FOR ts) WITH (connector = 'single_file', path = '/tmp/in.json', format = 'json', type = 'source');
CREATE TABLE dst WITH (connector = 'single_file', path = '/tmp/out.json', type = 'sink');
INSERT INTO dst SELECT id, upper(name) AS name, id::INT + 1 AS next FROM src WHERE name LIKE 'a%';
