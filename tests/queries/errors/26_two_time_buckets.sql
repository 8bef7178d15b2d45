SELECT count(*) FROM requests GROUP BY time(1h), day(time)
