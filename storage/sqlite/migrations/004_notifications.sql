-- 004: delivery state of notification hooks (core/notification.h).
-- One row per hook of a terminal task, inserted as 'pending' in the same transaction as the
-- terminal transition (so a crash before delivery loses nothing), then updated after each
-- attempt together with its 'notification' event. `hook` is the hook's position (the webhook
-- first, then the email addresses in request order). Times are unix milliseconds.
-- Tasks that finished before this migration get no rows: their hooks are not fired late.

CREATE TABLE notifications (
  task_id         TEXT NOT NULL REFERENCES tasks (id),
  hook            INTEGER NOT NULL,
  channel         TEXT NOT NULL,                 -- 'webhook' | 'email'
  target          TEXT NOT NULL,                 -- URL or email address
  status          TEXT NOT NULL,                 -- 'pending' | 'delivered' | 'failed'
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  last_error      TEXT,
  delivered_at    INTEGER,
  PRIMARY KEY (task_id, hook)
) WITHOUT ROWID;

-- Start-up re-queueing reads only the pending rows, which are few in a long-lived store.
CREATE INDEX notifications_pending ON notifications (task_id) WHERE status = 'pending';
