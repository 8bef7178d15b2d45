SELECT count(*) FROM requests GROUP BY day(time) TZ('Mars/Olympus')
