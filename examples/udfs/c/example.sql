-- The C example UDFs over a bounded impulse source:
--   clang --target=wasm32-wasi -O2 -mbulk-memory -mexec-model=reactor -I udf/sdk/c -o udfs.wasm examples/udfs/c/udfs.c
--   arroyo run --udf udfs.wasm examples/udfs/c/example.sql
CREATE TABLE impulse WITH (connector = 'impulse', event_rate = '1000000', message_count = '10');

SELECT counter, c_add_one(CAST(counter AS BIGINT)) AS next, c_reverse(CAST(counter * 100 + 12 AS TEXT)) AS digits
FROM impulse;
