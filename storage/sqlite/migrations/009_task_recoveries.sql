-- 009: runs interrupted before they could end (a crash or restart, a drain, an expired lease) are
-- counted in the task body's `recoveries` and no longer in its `attempts`, which so never grows
-- past max_attempts through them. Each such run left one 'recover' or 'lease_expired' event:
-- existing tasks get that count as their recoveries, and their attempts lose as many.

UPDATE tasks
SET body = json_set(body,
                    '$.recoveries', r.n,
                    '$.attempts', MAX(0, json_extract(body, '$.attempts') - r.n))
FROM (SELECT task_id, COUNT(*) AS n FROM task_events
      WHERE type IN ('recover', 'lease_expired') GROUP BY task_id) AS r
WHERE r.task_id = tasks.id;

UPDATE tasks SET body = json_set(body, '$.recoveries', 0)
WHERE json_type(body, '$.recoveries') IS NULL;
