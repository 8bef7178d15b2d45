SELECT count(*)
FROM requests
WHERE status >= 500
GROUP BY endpont
