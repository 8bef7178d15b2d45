SELECT count(*), mean(latency_ms), sum(bytes_out), first(latency_ms), count_distinct(key), p99(latency_ms) FROM requests WHERE key = 'nobody'
