SELECT count(*) FROM "tally"."autogen"."requests"; SELECT count(*) FROM tally..requests; SELECT count(*) FROM autogen.requests
