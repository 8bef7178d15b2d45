SELECT bogus(latency_ms) FROM requests
