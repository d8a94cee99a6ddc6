-- 002: wake-ups. Whenever a task becomes Pending (created, retried, resumed, requeued after
-- an expired lease or a restart), a notification on channel 'exportd_tasks_<schema>' reaches
-- every instance listening (PgWakeListener) when the transaction commits, so an idle instance
-- claims it at once instead of at its next poll. PostgreSQL folds the notifications of one
-- transaction with the same payload into one.
CREATE FUNCTION tasks_notify_pending() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('exportd_tasks_' || current_schema(), '');
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tasks_pending_notify AFTER INSERT OR UPDATE OF state ON tasks
  FOR EACH ROW WHEN (NEW.state = 'Pending') EXECUTE FUNCTION tasks_notify_pending();
