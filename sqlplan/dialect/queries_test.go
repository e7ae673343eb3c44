package dialect

import (
	"os"
	"path/filepath"
	"testing"
)

// arroyoQueries are queries in the style of Arroyo's documentation and
// Nexmark examples; all of them must parse.
const arroyoQueries = `
CREATE TABLE nexmark WITH (
    connector = 'nexmark',
    event_rate = '100'
);

CREATE TABLE events (
    id BIGINT NOT NULL,
    ts TIMESTAMP NOT NULL,
    user_id TEXT,
    data JSON,
    tags TEXT[],
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
    connector = 'kafka',
    bootstrap_servers = 'localhost:9092',
    topic = 'events',
    type = 'source',
    format = 'json',
    'source.offset' = 'earliest',
    source.read_mode = 'read_committed',
    bad_data = 'drop'
);

CREATE TABLE results (
    window_start TIMESTAMP,
    key TEXT,
    count BIGINT
) WITH (
    connector = 'kafka',
    bootstrap_servers = 'localhost:9092',
    topic = 'results',
    type = 'sink',
    format = 'debezium_json'
);

CREATE TABLE memory_table (a BIGINT, b TEXT);

-- q5: hot items
SELECT AuctionBids.auction, AuctionBids.num
FROM (
    SELECT bid.auction AS auction, count(*) AS num,
           hop(INTERVAL '2 seconds', INTERVAL '10 seconds') AS window
    FROM nexmark
    WHERE bid IS NOT NULL
    GROUP BY 1, window
) AS AuctionBids
JOIN (
    SELECT max(num) AS maxn, window
    FROM (
        SELECT count(*) AS num, hop(INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS window
        FROM nexmark
        WHERE bid IS NOT NULL
        GROUP BY bid.auction, window
    ) AS CountBids
    GROUP BY window
) AS MaxBids
ON AuctionBids.window = MaxBids.window AND AuctionBids.num >= MaxBids.maxn;

-- top 3 per window
SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY window ORDER BY count DESC) AS row_num
    FROM (
        SELECT count(*) AS count, bid.auction AS auction, tumble(INTERVAL '1' MINUTE) AS window
        FROM nexmark
        WHERE bid IS NOT NULL
        GROUP BY 2, window
    )
) WHERE row_num <= 3;

CREATE VIEW per_key AS
SELECT key, count(*) AS count, window.start AS window_start
FROM (SELECT user_id AS key, tumble(INTERVAL '10 seconds') AS window FROM events)
GROUP BY key, window;

INSERT INTO results
SELECT window_start, key, count FROM per_key;

SELECT id, data->'$.name' AS name, CAST(id AS TEXT) || ':' || user_id AS label,
       ts::TEXT AS ts_text, extract_json_string(data, '$.kind') AS kind,
       date_trunc('hour', ts) AS hour, coalesce(user_id, 'anonymous') AS user_name
FROM events
WHERE id % 2 = 0 AND user_id LIKE 'a%' AND regexp_like(user_id, '^[a-z]+\d*$');

SELECT session(INTERVAL '30 seconds') AS session, user_id, count(*)
FROM events
GROUP BY session, user_id;

SELECT a.id, b.id FROM events a
LEFT JOIN events b ON a.user_id = b.user_id AND a.id < b.id
UNION ALL
SELECT id, NULL FROM events;
`

func TestArroyoQueries(t *testing.T) {
	stmts, err := Parse("queries.sql", arroyoQueries)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 11 {
		t.Fatalf("%d statements, want 11", len(stmts))
	}
	for i, s := range stmts {
		if (s.CreateTable == nil) == (s.Node == nil) {
			t.Errorf("statement %d: CreateTable %v, Node %v", i, s.CreateTable != nil, s.Node != nil)
		}
	}
}

// TestExamples parses the repository's example SQL files.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.sql")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(filepath.Base(name), string(src)); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// TestVerb: a statement kind is named in SQL words.
func TestVerb(t *testing.T) {
	for sql, want := range map[string]string{
		"DROP TABLE t":           "DROP TABLE",
		"drop view v":            "DROP VIEW",
		"DELETE FROM t WHERE a":  "DELETE FROM",
		"UPDATE t SET a = 1":     "UPDATE",
		"SHOW TABLES":            "SHOW TABLES",
		"TRUNCATE TABLE t":       "TRUNCATE TABLE",
		"CREATE INDEX i ON t(a)": "CREATE INDEX",
	} {
		if got := parseOne(t, sql).Verb(); got != want {
			t.Errorf("Verb(%q) = %q, want %q", sql, got, want)
		}
	}
}
