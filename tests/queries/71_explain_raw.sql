EXPLAIN SELECT count(*) FROM requests WHERE time > now() - 90d AND latency_ms > 100 GROUP BY endpoint
