-- 005: roles of API keys (reader, exporter, admin). Keys made before roles existed keep what
-- they could do: admin keys become admin, the others exporter (create and read their own).
-- The admin column stays, written as role = 'admin', so the two never disagree.

ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'exporter'
  CHECK (role IN ('reader', 'exporter', 'admin'));
UPDATE api_keys SET role = 'admin' WHERE admin = 1;
