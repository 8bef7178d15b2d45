SELECT * FROM requests WHERE time = now() - 24h; SELECT * FROM requests WHERE time = now(); SELECT count(*) FROM requests WHERE time >= now() - 24h
