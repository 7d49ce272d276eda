-- Hazards (隐患): spread over all enterprises, dates drawn back from :base_date, the closed loop's dates in order.
INSERT INTO hazard (id, code, enterprise_id, level, description, found_on, deadline, status, rectified_on,
                    closed_on, closed_by, supervising_department, source)
WITH h AS (
    SELECT g AS id,
           1 + floor(pg_temp.u(:s, g, 1) * :n_enterprises)::int AS enterprise_id,
           CASE WHEN pg_temp.u(:s, g, 2) < :major_share THEN 'major' ELSE 'general' END AS level,
           CAST(:base_date AS date) - floor(pg_temp.u(:s, g, 3) * :found_within_days)::int AS found_on,
           (CAST(:statuses AS text[]))[width_bucket(pg_temp.u(:s, g, 4), CAST(:status_cum AS float8[]))] AS status,
           pg_temp.u(:s, g, 5) AS u_fix,
           (CAST(:descriptions AS text[]))[1 + floor(pg_temp.u(:s, g, 6)
                                            * cardinality(CAST(:descriptions AS text[])))::int] AS what
    FROM generate_series(1, :n) AS g
), dated AS (
    SELECT h.*,
           CASE level WHEN 'major' THEN :major_days ELSE :general_days END AS days,
           LEAST(found_on + floor(u_fix * CASE level WHEN 'major' THEN :major_days ELSE :general_days END)::int,
                 CAST(:base_date AS date)) AS fixed_on
    FROM h
)
SELECT id, 'SCALE-YH-' || lpad(id::text, 8, '0'), enterprise_id, level, '合成隐患：' || what, found_on,
       found_on + days, status,
       CASE WHEN status IN ('rectified', 'closed') THEN fixed_on END,
       CASE WHEN status = 'closed' THEN LEAST(fixed_on + 7, CAST(:base_date AS date)) END,
       CASE WHEN status = 'closed' THEN '合成验收组' END,
       CASE WHEN level = 'major' THEN '县应急管理局' END,
       :source
FROM dated;
