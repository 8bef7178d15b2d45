SELECT count(*) FROM requests WHERE count(*) > 5
