SELECT count(*) FILTER (WHERE status_class = '5xx') / count(*) AS error_rate FROM requests GROUP BY key, time(5m)
