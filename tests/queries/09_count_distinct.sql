SELECT count(DISTINCT key) AS keys, count_distinct(endpoint) AS endpoints, count_distinct(status) AS statuses, count(DISTINCT model) AS models FROM requests WHERE time >= '2026-11-01'
