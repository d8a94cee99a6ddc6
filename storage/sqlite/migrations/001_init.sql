-- 001: tasks, their audit events, API keys and the writability heartbeat.
-- Times are unix milliseconds (INTEGER). The task's full record is `body` (JSON written by
-- storage/task_codec); the other task columns are copies of body fields that queries filter or
-- order on, always written together with body.

CREATE TABLE tasks (
  id              TEXT PRIMARY KEY NOT NULL,   -- ULID
  seq             INTEGER NOT NULL UNIQUE,     -- creation order (FIFO), assigned on insert
  principal       TEXT NOT NULL,
  state           TEXT NOT NULL,               -- TaskStateName(): 'Pending', 'Processing', ...
  dataset         TEXT NOT NULL,
  query_hash      TEXT NOT NULL,
  idempotency_key TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  not_before      INTEGER,
  body            TEXT NOT NULL
);

-- Create's idempotency check and FindByIdempotencyKey.
CREATE UNIQUE INDEX tasks_idempotency ON tasks (principal, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- List: newest first (id DESC) within each filter; the primary key serves the unfiltered list.
CREATE INDEX tasks_principal_id ON tasks (principal, id);
CREATE INDEX tasks_state_id ON tasks (state, id);
CREATE INDEX tasks_dataset_id ON tasks (dataset, id);
CREATE INDEX tasks_query_hash_id ON tasks (query_hash, id);

-- ClaimNext (Pending by seq, not_before read from the index) and RecoverProcessing.
CREATE INDEX tasks_state_seq ON tasks (state, seq, not_before);
-- NextWakeup: the earliest future not_before among Pending tasks.
CREATE INDEX tasks_state_not_before ON tasks (state, not_before);

CREATE TABLE task_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so the audit order is stable
  task_id    TEXT NOT NULL REFERENCES tasks (id),
  at         INTEGER NOT NULL,
  type       TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT,
  detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_events_task ON task_events (task_id, seq);

CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  sha256     TEXT NOT NULL UNIQUE,
  admin      INTEGER NOT NULL CHECK (admin IN (0, 1)),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- One row, rewritten by CheckWritable() to prove that a commit reaches the disk.
CREATE TABLE store_heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);
