SELECT quantile(latency_ms, bytes_out) FROM requests
