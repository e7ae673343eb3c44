-- The first schema: every entity of the control plane. Written once for
-- both dialects: {{ID}} is the integer primary key (INTEGER PRIMARY KEY
-- AUTOINCREMENT on SQLite, BIGINT GENERATED ALWAYS AS IDENTITY on
-- PostgreSQL) and {{BLOB}} a byte string (BLOB, BYTEA). Times are
-- microseconds since the Unix epoch (BIGINT), NULL when not yet set.
-- Statements end with ';' at the end of a line.

CREATE TABLE connection_profiles (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    connector TEXT NOT NULL,
    config TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE connection_tables (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    connector TEXT NOT NULL,
    table_type TEXT NOT NULL,
    profile_id TEXT REFERENCES connection_profiles (id),
    config TEXT NOT NULL,
    schema_json TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE udfs (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    module {{BLOB}} NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE pipelines (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    parallelism INTEGER NOT NULL,
    udfs TEXT NOT NULL DEFAULT '[]',
    stop TEXT NOT NULL DEFAULT 'none',
    checkpoint_interval_micros BIGINT NOT NULL DEFAULT 0,
    preview INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE jobs (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    run_id BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT,
    finished_at BIGINT,
    failure_message TEXT NOT NULL DEFAULT '',
    restarts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX jobs_pipeline ON jobs (pipeline_id, seq);

CREATE TABLE checkpoints (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    epoch BIGINT NOT NULL,
    state TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    bytes BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    operators TEXT NOT NULL DEFAULT '{}',
    UNIQUE (job_id, epoch)
);

CREATE TABLE job_log_messages (
    seq {{ID}},
    id TEXT NOT NULL UNIQUE,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    operator_id TEXT NOT NULL DEFAULT '',
    subtask INTEGER,
    message TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE INDEX job_log_messages_job ON job_log_messages (job_id, seq);
