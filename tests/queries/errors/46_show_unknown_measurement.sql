SHOW TAG VALUES FROM reqests WITH KEY = endpoint
