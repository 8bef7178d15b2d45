SELECT count(*) FROM requests WHERE lower(key) = 'acme'
