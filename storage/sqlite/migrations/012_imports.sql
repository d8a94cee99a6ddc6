-- 012: imports. Imports are tasks of the same table, queue and lifecycle as exports; `kind`
-- tells them apart for the two listings (GET /v1/exports, GET /v1/imports). Every task stored
-- before is an export.
ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'export';
CREATE INDEX tasks_kind_id ON tasks (kind, id);
