SELECT count(*) FROM requests GROUP BY week(now())
