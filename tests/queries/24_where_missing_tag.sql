SELECT count(*) FROM requests WHERE key != 'acme' GROUP BY endpoint, key
