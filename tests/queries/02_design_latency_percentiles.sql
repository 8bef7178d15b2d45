SELECT p50(latency_ms), p95(latency_ms), p99(latency_ms) FROM requests WHERE endpoint = '/api/segments' GROUP BY time(1h)
