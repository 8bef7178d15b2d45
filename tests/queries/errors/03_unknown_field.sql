SELECT mean(latncy_ms) FROM requests
