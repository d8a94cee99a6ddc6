-- 007: a revision per task. It changes with every committed change to what the store holds about
-- the task: its row (SqliteTaskStore::SaveLocked) and its notification deliveries (which live in
-- their own table). Readers compare it to tell whether a task they rendered before is unchanged
-- without reading and decoding its body (the API's cache of rendered task bodies). Counting
-- starts at 0 for tasks created before this migration as for new ones.

ALTER TABLE tasks ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
