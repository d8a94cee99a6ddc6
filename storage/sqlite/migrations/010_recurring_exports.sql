-- 010: recurring exports. Watermarks per (dataset, partition), schedules and the slots they
-- fired, and audit events that belong to no task (a person setting or deleting a watermark).

-- The audit table is rebuilt once so that task_id may be NULL; rows keep their seq, and the
-- AUTOINCREMENT counter follows (an explicit seq updates sqlite_sequence). The implicit delete
-- of DROP TABLE fires no trigger; the append-only triggers are created again below.
CREATE TABLE task_events_010 (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id    TEXT REFERENCES tasks (id),         -- NULL: an event of no task (type 'watermark')
  at         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT,
  detail     TEXT NOT NULL DEFAULT '',
  actor      TEXT,
  remote     TEXT,
  file       TEXT,
  bytes      INTEGER,
  outcome    TEXT
);
INSERT INTO task_events_010 (seq, task_id, at, type, from_state, to_state, detail, actor, remote,
                             file, bytes, outcome)
  SELECT seq, task_id, at, type, from_state, to_state, detail, actor, remote, file, bytes, outcome
  FROM task_events ORDER BY seq;
DROP TABLE task_events;
ALTER TABLE task_events_010 RENAME TO task_events;

CREATE INDEX task_events_task ON task_events (task_id, seq);
CREATE INDEX task_events_actor_seq ON task_events (actor, seq);
CREATE INDEX task_events_type_seq ON task_events (type, seq);
CREATE INDEX task_events_remote_seq ON task_events (remote, seq) WHERE remote IS NOT NULL;
CREATE INDEX task_events_at ON task_events (at);
CREATE TRIGGER task_events_no_update BEFORE UPDATE ON task_events
BEGIN
  SELECT RAISE(ABORT, 'task_events is append-only');
END;
CREATE TRIGGER task_events_no_delete BEFORE DELETE ON task_events
BEGIN
  SELECT RAISE(ABORT, 'task_events is append-only');
END;

-- Where the next incremental export of a partition starts (unix ms). Moved only by the
-- transition to Succeeded of an incremental task (task_id names it), or by an admin (task_id
-- NULL), always with a 'watermark' event in the same transaction.
CREATE TABLE watermarks (
  dataset    TEXT NOT NULL,
  partition  TEXT NOT NULL,
  watermark  INTEGER NOT NULL,
  task_id    TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (dataset, partition)
) WITHOUT ROWID;

-- Schedules: `body` holds what the owner wrote (name, cron, zone, request template, enabled,
-- catch_up) as JSON written by storage/sqlite/schedule_codec; the other columns are what queries
-- filter on and what firing updates.
CREATE TABLE schedules (
  id           TEXT PRIMARY KEY NOT NULL,   -- 'sch_' + ULID
  principal    TEXT NOT NULL,
  body         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  last_slot    INTEGER,                     -- the latest slot fired (unix ms)
  last_task_id TEXT,
  last_run_at  INTEGER
);
CREATE INDEX schedules_principal_id ON schedules (principal, id);

-- Every slot ever fired, inserted in the transaction that creates its task: the primary key
-- makes a second task for the same (schedule, slot) impossible, across restarts and instances.
-- Rows outlive their schedule, like its tasks.
CREATE TABLE schedule_runs (
  schedule_id TEXT NOT NULL,
  slot        INTEGER NOT NULL,
  task_id     TEXT NOT NULL REFERENCES tasks (id),
  PRIMARY KEY (schedule_id, slot)
) WITHOUT ROWID;
