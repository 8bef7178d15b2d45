SELECT count(*) FILTER (WHERE max(latency_ms) > 5) FROM requests
