SELECT count(*) AS n FROM requests GROUP BY method, status_class ORDER BY n DESC, method ASC LIMIT 5
