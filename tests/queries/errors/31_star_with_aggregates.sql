SELECT *, count(*) FROM requests
