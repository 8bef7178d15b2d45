SELECT count(*) FROM requests WHERE endpoint =~ /(api/
