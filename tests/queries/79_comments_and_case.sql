-- Keywords in any case, a query over several lines, comments.
select count(*) as n,  -- every request
       Sum(bytes_out) as bytes
from requests
where key = 'acme'  -- one customer
  and time >= '2026-11-04'
group by method
order by n desc
