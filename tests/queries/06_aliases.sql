SELECT count(*) AS n, sum(bytes_out) AS "bytes out", mean(latency_ms) AS avg_latency FROM requests
