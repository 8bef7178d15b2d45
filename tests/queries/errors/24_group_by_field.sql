SELECT count(*) FROM requests GROUP BY latency_ms
