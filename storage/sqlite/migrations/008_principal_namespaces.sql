-- 008: principals in separate namespaces (core/principal.h): an API key owns its tasks as
-- 'key:<id>', an OAuth token as 'jwt:<issuer>#<sub>'. Before, both were the bare id or subject,
-- so a token whose sub equalled a key id acted as that key.
-- Tasks keep their owners: a principal that is the id of an API key (revoked ones included)
-- becomes that key's; every other one was a token's subject, whose issuer this file cannot
-- know: it becomes 'jwt:?#<sub>', which exportd rewrites to 'jwt:<issuer>#<sub>' with the
-- configured issuer at its next start (storage/sqlite/principal_migration.h). The copy in the body
-- is rewritten with the column, and the revision moves so no cached rendering survives.
-- Audit rows are append-only and keep the actor they were written with.
-- (A sub that equalled a key id cannot be told apart from that key here; such tasks go to the
-- key, which is what the API showed until now.)

-- Tokens' first: afterwards every row not yet rewritten is a key's.
UPDATE tasks
   SET principal = 'jwt:?#' || principal,
       body = json_set(body, '$.principal', 'jwt:?#' || principal),
       revision = revision + 1
 WHERE principal NOT IN (SELECT id FROM api_keys);

UPDATE tasks
   SET principal = 'key:' || principal,
       body = json_set(body, '$.principal', 'key:' || principal),
       revision = revision + 1
 WHERE principal IN (SELECT id FROM api_keys);
