SHOW TAG VALUES FROM requests WITH KEY = endpoint WHERE key = 'beta'
