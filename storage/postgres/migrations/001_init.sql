-- 001: the whole exportd store on PostgreSQL, as the SQLite store has it after its migration 010
-- (storage/sqlite/migrations): tasks and their audit events, leases, retention, notification
-- deliveries, API keys, watermarks, schedules and the slots they fired.
-- Times are unix milliseconds (BIGINT), as in SQLite, so both stores keep the same precision and
-- no session time zone is involved. The task's full record is `body` (JSON written by
-- storage/sqlite/task_codec); the other task columns are copies of body fields that queries
-- filter or order on, always written together with body.

CREATE TABLE tasks (
  id               TEXT PRIMARY KEY,                         -- ULID
  seq              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order (FIFO)
  principal        TEXT NOT NULL,
  state            TEXT NOT NULL,                            -- 'Pending', 'Processing', ...
  dataset          TEXT NOT NULL,
  query_hash       TEXT NOT NULL,
  idempotency_key  TEXT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  not_before       BIGINT,
  lease_owner      TEXT,                                     -- instance id while Processing
  lease_expires_at BIGINT,
  purge_at         BIGINT,       -- when the retention janitor has objects of it to delete
  revision         BIGINT NOT NULL DEFAULT 0,  -- moves with every change (row or deliveries)
  body             TEXT NOT NULL
);

-- Create's idempotency check and FindByIdempotencyKey.
CREATE UNIQUE INDEX tasks_idempotency ON tasks (principal, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- List: newest first (id DESC) within each filter; the primary key serves the unfiltered list.
CREATE INDEX tasks_principal_id ON tasks (principal, id);
CREATE INDEX tasks_state_id ON tasks (state, id);
CREATE INDEX tasks_dataset_id ON tasks (dataset, id);
CREATE INDEX tasks_query_hash_id ON tasks (query_hash, id);
-- The queue: ClaimNext walks Pending tasks in seq order (FOR UPDATE SKIP LOCKED); partial
-- indexes stay as small as the queue, however many finished tasks the table holds.
CREATE INDEX tasks_pending_seq ON tasks (seq) WHERE state = 'Pending';
CREATE INDEX tasks_pending_not_before ON tasks (not_before) WHERE state = 'Pending';
-- ExpireLeases, NextWakeup and RecoverProcessing.
CREATE INDEX tasks_processing_lease ON tasks (lease_expires_at) WHERE state = 'Processing';
-- ClaimNext's check of an incremental export against earlier ones of its dataset.
CREATE INDEX tasks_dataset_active ON tasks (dataset, seq)
  WHERE state IN ('Pending', 'Processing', 'Paused');
-- The retention janitor.
CREATE INDEX tasks_purge_at ON tasks (purge_at) WHERE purge_at IS NOT NULL;

-- The audit trail (see SQLite's migration 006 for the meaning of each column). task_id is NULL
-- for an event of no task (a watermark set by hand).
CREATE TABLE task_events (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id    TEXT REFERENCES tasks (id),
  at         BIGINT NOT NULL,
  type       TEXT NOT NULL,
  from_state TEXT,
  to_state   TEXT,
  detail     TEXT NOT NULL DEFAULT '',
  actor      TEXT,
  remote     TEXT,
  file       TEXT,
  bytes      BIGINT,
  outcome    TEXT
);
CREATE INDEX task_events_task ON task_events (task_id, seq);
CREATE INDEX task_events_actor_seq ON task_events (actor, seq);
CREATE INDEX task_events_type_seq ON task_events (type, seq);
CREATE INDEX task_events_remote_seq ON task_events (remote, seq) WHERE remote IS NOT NULL;
CREATE INDEX task_events_at ON task_events (at);

-- Append-only, enforced by the database: no statement of this or any later version, and no
-- one with a SQL prompt short of dropping the triggers, changes or removes an audit row.
CREATE FUNCTION task_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'task_events is append-only (% refused)', TG_OP;
END
$fn$;
CREATE TRIGGER task_events_no_update_delete BEFORE UPDATE OR DELETE ON task_events
  FOR EACH ROW EXECUTE FUNCTION task_events_append_only();
CREATE TRIGGER task_events_no_truncate BEFORE TRUNCATE ON task_events
  FOR EACH STATEMENT EXECUTE FUNCTION task_events_append_only();

-- One row per hook of a terminal task, inserted as 'pending' in the transaction of the terminal
-- transition, updated after each attempt together with its 'notification' event.
CREATE TABLE notifications (
  task_id         TEXT NOT NULL REFERENCES tasks (id),
  hook            INTEGER NOT NULL,
  channel         TEXT NOT NULL,
  target          TEXT NOT NULL,
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_attempt_at BIGINT,
  last_error      TEXT,
  delivered_at    BIGINT,
  PRIMARY KEY (task_id, hook)
);
CREATE INDEX notifications_pending ON notifications (task_id) WHERE status = 'pending';

CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  sha256     TEXT NOT NULL UNIQUE,
  role       TEXT NOT NULL CHECK (role IN ('reader', 'exporter', 'admin')),
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

-- One row, rewritten by CheckWritable() to prove that a commit succeeds.
CREATE TABLE store_heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at BIGINT NOT NULL
);

-- Where the next incremental export of a partition starts; moved by the transition to Succeeded
-- of an incremental task (task_id) or by an admin (task_id NULL), with a 'watermark' event.
CREATE TABLE watermarks (
  dataset    TEXT NOT NULL,
  partition  TEXT NOT NULL,
  watermark  BIGINT NOT NULL,
  task_id    TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (dataset, partition)
);

CREATE TABLE schedules (
  id           TEXT PRIMARY KEY,          -- 'sch_' + ULID
  principal    TEXT NOT NULL,
  body         TEXT NOT NULL,             -- storage/sqlite/schedule_codec
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  last_slot    BIGINT,
  last_task_id TEXT,
  last_run_at  BIGINT
);
CREATE INDEX schedules_principal_id ON schedules (principal, id);

-- Every slot ever fired, inserted in the transaction that creates its task: the primary key
-- makes a second task for one (schedule, slot) impossible, across restarts and instances.
CREATE TABLE schedule_runs (
  schedule_id TEXT NOT NULL,
  slot        BIGINT NOT NULL,
  task_id     TEXT NOT NULL REFERENCES tasks (id),
  PRIMARY KEY (schedule_id, slot)
);
