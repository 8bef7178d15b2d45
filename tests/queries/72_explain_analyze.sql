EXPLAIN ANALYZE SELECT count(*) FROM requests WHERE key = 'ci-runner' AND latency_ms > 100 GROUP BY method
