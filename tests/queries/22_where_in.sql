SELECT count(*) FROM requests WHERE endpoint IN ('/api/users', '/api/keys') AND method NOT IN ('DELETE') GROUP BY endpoint, method
