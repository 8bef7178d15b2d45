SELECT count(*) FROM requests GROUP BY time
