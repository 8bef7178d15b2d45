SELECT p42(latency_ms), p100(latency_ms), max(latency_ms) FROM requests WHERE time >= '2026-11-02' AND time < '2026-11-03' AND bytes_out >= 0
