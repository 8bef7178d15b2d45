SELECT count(*) FROM requests GROUP BY platform
