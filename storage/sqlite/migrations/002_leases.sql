-- 002: leases of running tasks (checkpoints live in the task's body).
-- A Processing task is leased to one exportd instance until lease_expires_at (unix ms); the
-- owner renews it while it runs, and any instance may put a task whose lease has expired back
-- in the queue. Both columns are copies of body.lease, written together with body; NULL when
-- the task is not Processing, and for tasks written before this migration (which the instance
-- that starts next recovers as its own).

ALTER TABLE tasks ADD COLUMN lease_owner TEXT;
ALTER TABLE tasks ADD COLUMN lease_expires_at INTEGER;

-- ExpireLeases and NextWakeup: Processing tasks by lease expiry.
CREATE INDEX tasks_state_lease ON tasks (state, lease_expires_at);
