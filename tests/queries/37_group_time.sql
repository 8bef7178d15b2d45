SELECT count(*), mean(latency_ms) FROM requests WHERE time >= now() - 6h GROUP BY time(30m)
