SELECT count(*), count(latency_ms), count(*), max(bytes_out) AS count FROM requests
