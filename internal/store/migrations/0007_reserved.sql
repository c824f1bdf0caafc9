-- 0007: reserved for another branch's migration (the lead assigned 0007
-- elsewhere and 0008 to workflows); this placeholder lets 0008 apply on
-- the workflow branch alone. Delete it when the branch holding 0007 merges.
SELECT 1;
