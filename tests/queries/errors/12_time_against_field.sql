SELECT count(*) FROM requests WHERE time > latency_ms
