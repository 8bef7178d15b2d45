SELECT count(*) FROM requests GROUP BY day(latency_ms)
