-- 006: the audit trail. Every event row says who caused it and from where, and a file access
-- says which file, how many bytes went out and how it ended, as columns an auditor can filter
-- on (GET /v1/audit) rather than prose in `detail`.
--   actor    the principal (API key id or token subject) for API calls; 'link' for a download
--            through a pre-signed link (the signature is the credential, not a principal); the
--            instance id for the scheduler's transitions; 'exportd' for housekeeping (retention
--            janitor, lease expiry, notifications). NULL for rows written before this migration.
--   remote   the client address of the request; NULL for events no request caused.
--   file     the file a download or denied file access named; NULL otherwise.
--   bytes    bytes sent to the client by a download; NULL otherwise.
--   outcome  'completed' | 'interrupted' | 'not_modified' | 'denied' | 'gone' | 'not_found' |
--            'failed' for file accesses; NULL otherwise.

ALTER TABLE task_events ADD COLUMN actor TEXT;
ALTER TABLE task_events ADD COLUMN remote TEXT;
ALTER TABLE task_events ADD COLUMN file TEXT;
ALTER TABLE task_events ADD COLUMN bytes INTEGER;
ALTER TABLE task_events ADD COLUMN outcome TEXT;

-- The audit filters, newest first (seq DESC) within each: by principal, by event type, by client
-- address (only rows from requests have one), and time windows.
CREATE INDEX task_events_actor_seq ON task_events (actor, seq);
CREATE INDEX task_events_type_seq ON task_events (type, seq);
CREATE INDEX task_events_remote_seq ON task_events (remote, seq) WHERE remote IS NOT NULL;
CREATE INDEX task_events_at ON task_events (at);

-- Append-only: no statement of this or any later version may change or remove an audit row.
-- A deliberate purge would have to drop these triggers in a migration of its own.
CREATE TRIGGER task_events_no_update BEFORE UPDATE ON task_events
BEGIN
  SELECT RAISE(ABORT, 'task_events is append-only');
END;
CREATE TRIGGER task_events_no_delete BEFORE DELETE ON task_events
BEGIN
  SELECT RAISE(ABORT, 'task_events is append-only');
END;
