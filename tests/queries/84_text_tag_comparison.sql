SELECT count(*) FROM requests WHERE key < 'b' GROUP BY key; SELECT count(*) FROM requests WHERE key >= 'beta' GROUP BY key
