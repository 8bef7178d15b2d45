EXPLAIN ANALYZE SELECT count(*) FROM requests WHERE key = 'ci-runner' GROUP BY method
