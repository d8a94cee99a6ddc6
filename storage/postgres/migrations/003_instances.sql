-- 003: the instances sharing this database (GET /v1/instances). Each instance records itself at
-- start and moves heartbeat_at while it runs; an instance that died keeps its row, with a
-- heartbeat that no longer moves. Its running tasks are those leased to its id (tasks.lease_owner).
CREATE TABLE instances (
  id           TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
CREATE INDEX instances_heartbeat ON instances (heartbeat_at);
-- RunningTasks: the Processing tasks of one owner.
CREATE INDEX tasks_processing_owner ON tasks (lease_owner, id) WHERE state = 'Processing';
