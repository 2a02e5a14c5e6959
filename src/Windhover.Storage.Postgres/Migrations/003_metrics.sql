-- 3: task run metrics (counters and timers, Kestra's MetricEntry) in the shared database, so that every node's API
-- reads the metrics of task runs that any node ran. tags: a JSON object of strings, NULL when empty.
CREATE TABLE metrics (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, execution_id TEXT COLLATE "C" NOT NULL,
    namespace TEXT NOT NULL, flow_id TEXT NOT NULL, task_id TEXT, task_run_id TEXT, type TEXT NOT NULL, name TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL, timestamp BIGINT NOT NULL, tags TEXT);
CREATE INDEX ix_metrics_execution ON metrics (execution_id, seq);
