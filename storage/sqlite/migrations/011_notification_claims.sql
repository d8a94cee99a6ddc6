-- 011: claims on notification deliveries (NotificationOutbox::ClaimNotification), as in the
-- PostgreSQL store: one dispatcher among several sharing the store attempts each delivery. A
-- claim ends when it expires (its owner died) or the delivery leaves 'pending'. Times are unix
-- milliseconds.
ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
ALTER TABLE notifications ADD COLUMN claim_expires_at INTEGER;
