SELECT count(*) FROM requests WHERE time > now() - 1mo
