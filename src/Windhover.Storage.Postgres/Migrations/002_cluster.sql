-- 2: many nodes on one database.
-- executions.version: bumped by every saved step; a node that cached an execution compares it under the row lock.
-- executions.updated_at / swept_at: the sweeper finds unfinished executions that nobody moved for a while.
ALTER TABLE executions
    ADD COLUMN version BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    ADD COLUMN swept_at TIMESTAMPTZ;

-- Timers are claimed by one node when due; an unfinished claim lapses (the node died) and the timer fires again.
ALTER TABLE timers ADD COLUMN claimed_until TIMESTAMPTZ;

-- Runnable task runs waiting for a worker, or leased to one. A row lives from the step that dispatched the task run to
-- the step that applied its result (same transactions), so the queue holds only live work.
CREATE TABLE task_queue (
    task_run_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    execution_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    worker_id TEXT,
    lease_until TIMESTAMPTZ,
    claims INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
CREATE INDEX ix_task_queue_ready ON task_queue (seq) WHERE worker_id IS NULL;
CREATE INDEX ix_task_queue_leased ON task_queue (lease_until) WHERE worker_id IS NOT NULL;
CREATE INDEX ix_task_queue_execution ON task_queue (execution_id);

-- Live nodes (informational: roles and last heartbeat).
CREATE TABLE cluster_nodes (
    id TEXT NOT NULL PRIMARY KEY, roles TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, heartbeat_at TIMESTAMPTZ NOT NULL);
