SELECT count(*) FROM requests WHERE key = 'acme' AND method != 'GET' GROUP BY method
