SELECT count(*) FROM requests GROUP BY time(1h) FILL(sometimes)
