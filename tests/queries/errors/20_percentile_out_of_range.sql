SELECT percentile(latency_ms, 150) FROM requests
