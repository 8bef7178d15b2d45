SELECT count(*) FROM requests WHERE time > 'last tuesday'
