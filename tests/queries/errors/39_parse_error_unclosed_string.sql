SELECT count(*) FROM requests WHERE key = 'acme
