SELECT mean(latency_ms), count(*) FROM requests WHERE endpoint = '/health' AND time >= now() - 6h GROUP BY time(30m) FILL(1.5)
