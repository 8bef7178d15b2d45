SELECT median(latency_ms), p90(latency_ms), p95(latency_ms), p99(latency_ms), p999(latency_ms) FROM requests WHERE time >= '2026-11-02' AND time < '2026-11-03' AND bytes_out >= 0
