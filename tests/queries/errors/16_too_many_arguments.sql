SELECT sum(latency_ms, bytes_out) FROM requests
