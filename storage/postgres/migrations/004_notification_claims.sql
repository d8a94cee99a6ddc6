-- 004: claims on notification deliveries, so that one instance among several sharing this
-- database attempts each delivery (NotificationOutbox::ClaimNotification). A claim is taken by
-- a conditional update of the row (atomic under concurrent instances) and ends when it expires
-- (its owner died) or the delivery leaves 'pending'. Times are unix milliseconds.
ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
ALTER TABLE notifications ADD COLUMN claim_expires_at BIGINT;
