SELECT first(latency_ms), last(latency_ms), first(bytes_out) AS first_bytes, last(bytes_out) AS last_bytes FROM requests GROUP BY endpoint
