SELECT count(*) FROM requests GROUP BY endpoint ORDER BY total DESC
