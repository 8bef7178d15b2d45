SELECT latency_ms / 1000 AS seconds, bytes_out * 8 AS bits, latency_ms > 100 AS slow, status_class = '5xx' AS failed, -bytes_out FROM requests WHERE time > now() - 30m
