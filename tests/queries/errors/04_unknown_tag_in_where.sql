SELECT count(*) FROM requests WHERE endpont = '/health'
