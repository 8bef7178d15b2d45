SELECT count(DISTINCT key) AS keys, count_distinct(endpoint) AS endpoints, count_distinct(status) AS statuses, count(DISTINCT bytes_out > 10000) AS sizes FROM requests WHERE time >= '2026-11-01'
