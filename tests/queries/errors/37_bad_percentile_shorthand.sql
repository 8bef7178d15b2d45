SELECT p12345(latency_ms) FROM requests
