SELECT sum(*) FROM requests
