-- No planner statistics for the operation columns no query filters, joins or sorts on. ANALYZE
-- samples 30,000 rows; detoasting and comparing their order data (jsonb) and results was most of
-- its time: 700 ms → 140–270 ms on an 80,000-operation table (measured on the machine's PostgreSQL
-- 15). The statistics keeper (src/jobs/statistics.ts) runs it after large bulks, on the hot path's
-- database.
ALTER TABLE operation
  ALTER COLUMN data SET STATISTICS 0,
  ALTER COLUMN data_hash SET STATISTICS 0,
  ALTER COLUMN result SET STATISTICS 0,
  ALTER COLUMN result_message SET STATISTICS 0;
