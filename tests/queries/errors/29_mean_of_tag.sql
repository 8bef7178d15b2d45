SELECT mean(endpoint) FROM requests
