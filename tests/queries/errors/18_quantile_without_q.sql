SELECT quantile(latency_ms) FROM requests
