SELECT count(*) FROM requests WHERE (status >= 500 OR status = 429) AND NOT (key = 'beta' OR endpoint = '/health') GROUP BY status_class
