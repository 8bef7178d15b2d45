EXPLAIN SELECT count(latency_ms), p99(latency_ms) FROM requests WHERE endpoint = '/api/users' GROUP BY time(1h)
