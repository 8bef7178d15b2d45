SELECT count(*) FROM requests WHERE time > now() - 24h GROUP BY endpoint ORDER BY count DESC LIMIT 10
