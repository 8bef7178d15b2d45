SELECT count(*) FROM requests WHERE key = 'nobody' GROUP BY endpoint
