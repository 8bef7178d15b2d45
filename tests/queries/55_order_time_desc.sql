SELECT count(*) FROM requests WHERE time >= now() - 3h GROUP BY time(1h) ORDER BY time DESC
