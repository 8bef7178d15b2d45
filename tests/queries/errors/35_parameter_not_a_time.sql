-- params: from=bool:true
SELECT count(*) FROM requests WHERE time >= $from
