-- 0005: reserved for the run engine's migration (jobs and runs), which is
-- developed on another branch; when the two meet, that file replaces this
-- one. It changes nothing.
SELECT 1;
