-- 003: retention of finished tasks' files.
-- purge_at (unix ms) is a copy of body.files_expire_at while the task is terminal and still lists
-- files or a manifest, and NULL otherwise; written together with body (SaveLocked). The
-- retention janitor asks for the rows whose purge_at has passed, through the partial index, so
-- the tasks whose files are already gone (most of them, in a long-lived store) cost nothing.

ALTER TABLE tasks ADD COLUMN purge_at INTEGER;

CREATE INDEX tasks_purge_at ON tasks (purge_at) WHERE purge_at IS NOT NULL;

-- Tasks stored before retention existed keep the built-in default of 7 days from when they
-- finished (what storage/task_codec decodes for them; kDefaultRetention in core/task.h).
UPDATE tasks
   SET purge_at = json_extract(body, '$.finished_at') + 7 * 24 * 3600 * 1000
 WHERE state IN ('Succeeded', 'Failed', 'Cancelled')
   AND json_type(body, '$.finished_at') = 'integer'
   AND (json_array_length(body, '$.files') > 0 OR json_type(body, '$.manifest') = 'object');
