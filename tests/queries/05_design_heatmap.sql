SELECT count(*) FROM requests WHERE time > now() - 28d GROUP BY endpoint, hour_of_week(time)
