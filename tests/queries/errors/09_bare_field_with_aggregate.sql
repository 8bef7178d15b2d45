SELECT latency_ms, count(*) FROM requests GROUP BY endpoint
