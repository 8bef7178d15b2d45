SELECT count(*), min(latency_ms), max(bytes_out) FROM requests WHERE latency_ms > 250 AND bytes_out < 5000
