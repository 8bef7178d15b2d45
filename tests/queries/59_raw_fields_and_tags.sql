SELECT latency_ms, bytes_out, endpoint, status FROM requests WHERE key = 'beta' AND time > now() - 1h
