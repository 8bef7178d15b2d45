SELECT count(*) FROM requests WHERE endpoint =~ /^\/api\// AND key !~ /^ci/ GROUP BY key
