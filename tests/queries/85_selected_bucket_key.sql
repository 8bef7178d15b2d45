SELECT hour_of_week(time) AS how, count(*) FROM requests WHERE time >= '2026-11-04T06:00:00Z' GROUP BY hour_of_week(time) ORDER BY how DESC
