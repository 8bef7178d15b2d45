SELECT count(*) FROM reqests
