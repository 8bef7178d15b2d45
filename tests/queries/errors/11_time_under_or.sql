SELECT count(*) FROM requests WHERE time > now() - 1h OR key = 'ci-runner'
