SELECT quantile(latency_ms, 1.5) FROM requests
