-- 1: stores (flows, executions with task runs as rows, timers, logs, KV, trigger state, internal storage).
-- Key columns are COLLATE "C": ordinal order and namespace prefix ranges ('a.b.' <= ns < 'a.b/') as in SQLite.
-- List queries read only the narrow columns of executions (never header).
CREATE TABLE flows (
    namespace TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, revision INTEGER NOT NULL,
    source TEXT NOT NULL, updated BIGINT NOT NULL,
    PRIMARY KEY (namespace, id, revision));
CREATE TABLE flows_current (
    namespace TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, revision INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (namespace, id));

CREATE TABLE executions (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    namespace TEXT COLLATE "C" NOT NULL, flow_id TEXT COLLATE "C" NOT NULL, flow_revision INTEGER NOT NULL,
    state TEXT NOT NULL, terminal BOOLEAN NOT NULL, start_date BIGINT NOT NULL, end_date BIGINT,
    parent_id TEXT COLLATE "C", original_id TEXT COLLATE "C", trigger_id TEXT, trigger_type TEXT, labels TEXT,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    header TEXT NOT NULL);
CREATE INDEX ix_executions_start ON executions (start_date, id);
CREATE INDEX ix_executions_namespace ON executions (namespace, start_date);
CREATE INDEX ix_executions_flow ON executions (namespace, flow_id, start_date);
CREATE INDEX ix_executions_flow_state ON executions (namespace, flow_id, state, start_date);
CREATE INDEX ix_executions_state ON executions (state, start_date);
CREATE INDEX ix_executions_unfinished ON executions (start_date) WHERE NOT terminal;
CREATE INDEX ix_executions_parent ON executions (parent_id, start_date) WHERE parent_id IS NOT NULL;

CREATE TABLE execution_labels (
    execution_id TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (execution_id, key));
CREATE INDEX ix_execution_labels ON execution_labels (key, value, execution_id);

CREATE TABLE task_runs (
    execution_id TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, position INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (execution_id, id));

CREATE TABLE timers (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY, execution_id TEXT COLLATE "C" NOT NULL, kind TEXT, task_run_id TEXT,
    due_at BIGINT NOT NULL);
CREATE INDEX ix_timers_execution ON timers (execution_id);
CREATE INDEX ix_timers_due ON timers (due_at);

CREATE TABLE logs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, execution_id TEXT COLLATE "C" NOT NULL,
    namespace TEXT NOT NULL, flow_id TEXT NOT NULL, task_run_id TEXT, task_id TEXT, attempt INTEGER, trigger_id TEXT,
    timestamp BIGINT NOT NULL, level INTEGER NOT NULL, message TEXT NOT NULL, thread TEXT);
CREATE INDEX ix_logs_execution ON logs (execution_id, seq);

CREATE TABLE kv (
    namespace TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, value TEXT, updated BIGINT NOT NULL, expires_at BIGINT,
    PRIMARY KEY (namespace, key));

CREATE TABLE trigger_states (
    namespace TEXT COLLATE "C" NOT NULL, flow_id TEXT COLLATE "C" NOT NULL, trigger_id TEXT COLLATE "C" NOT NULL,
    last_fire BIGINT, next_fire BIGINT, last_execution_id TEXT, disabled BOOLEAN, data TEXT, updated BIGINT NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id));

-- Internal storage (kestra:/// URIs): every node sees the same files.
CREATE TABLE files (
    path TEXT COLLATE "C" NOT NULL PRIMARY KEY, content BYTEA NOT NULL, size BIGINT NOT NULL, updated BIGINT NOT NULL);
