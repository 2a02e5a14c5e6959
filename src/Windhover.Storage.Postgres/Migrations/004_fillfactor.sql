-- 3: room on each page for the next version of a row. A step that leaves the indexed columns alone (the version and
-- updated_at bump of executions, a task run's new data) then updates it in place on its page (a heap-only tuple) and
-- adds no entry to the table's indexes. Applies to pages written from now on.
ALTER TABLE executions SET (fillfactor = 80);
ALTER TABLE task_runs SET (fillfactor = 80);
