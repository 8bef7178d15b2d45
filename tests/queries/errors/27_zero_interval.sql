SELECT count(*) FROM requests GROUP BY time(0s)
