CREATE TABLE t (
    id BIGINT,
    p STRUCT<name TEXT, geo STRUCT<lat DOUBLE, lon DOUBLE, place STRUCT<city TEXT>>>,
    tags TEXT[],
    pts STRUCT<v BIGINT>[]
) WITH (connector = 'single_file', path = '$input_dir/nested.json', format = 'json', type = 'source');
CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', type = 'sink');
INSERT INTO out SELECT
    id,
    p.geo.lat,
    t.p.geo.lon,
    t.p.geo.place.city,
    p.geo.place.city AS city2,
    tags[1] AS first_tag,
    tags[3] AS third_tag,
    tags[0] AS zeroth_tag,
    tags[4] AS past_end,
    tags[-1] AS last_tag,
    tags[id] AS by_id,
    pts[1].v AS first_v,
    (pts[2]).v AS second_v
FROM t;
