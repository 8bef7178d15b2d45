SELECT latency_ms AS l, key FROM requests ORDER BY time DESC LIMIT 3 OFFSET 1
