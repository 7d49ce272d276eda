-- name: colour_counts
-- Current risk objects per kind and colour (risk_assessment rows with valid_to NULL), in the caller's RLS scope.
SELECT kind, level, count(*) AS n
FROM risk_assessment
WHERE valid_to IS NULL
GROUP BY kind, level;

-- name: colour_trend
-- Objects per kind and colour as they stood at the end of each of the last :months months (the history keeps
-- every level with its valid_from/valid_to period; the current month is read at now()).
WITH months AS (
    SELECT m::date AS month,
           least(m + interval '1 month', now()) AS at
    FROM generate_series(date_trunc('month', CAST(:today AS date)) - make_interval(months => :months - 1),
                         date_trunc('month', CAST(:today AS date)), interval '1 month') AS m
)
SELECT to_char(months.month, 'YYYY-MM') AS month, a.kind, a.level, count(*) AS n
FROM months
JOIN risk_assessment a ON a.valid_from < months.at AND (a.valid_to IS NULL OR a.valid_to >= months.at)
GROUP BY 1, 2, 3;

-- name: register_by_month
-- Register objects of one kind by the month they were found (last :months months): how many, how many of them
-- are rectified now (the life-cycle's done statuses), and how many stand in each status.
SELECT to_char(date_trunc('month', i.found_on), 'YYYY-MM') AS month, i.status, count(*) AS n
FROM register_item i
WHERE i.object_kind = :kind
  AND i.found_on >= date_trunc('month', CAST(:today AS date)) - make_interval(months => :months - 1)
  AND i.found_on <= :today
GROUP BY 1, 2;

-- name: overdue_hazards
-- Hazards past their deadline and not rectified, most overdue first.
SELECT h.code, h.level, h.status, h.deadline, h.description, e.id AS enterprise_id, e.name AS enterprise,
       t.code AS township_code, t.name AS township, (CAST(:today AS date) - h.deadline) AS days
FROM hazard h
JOIN enterprise e ON e.id = h.enterprise_id
LEFT JOIN township t ON t.id = e.township_id
WHERE h.deadline < :today AND NOT h.status = ANY(:done)
ORDER BY h.deadline, h.code
LIMIT :limit;

-- name: overdue_encroachments
-- Encroachment points past their deadline and not rectified, most overdue first.
SELECT c.code, c.kind, c.status, c.deadline, c.description, p.name AS pipeline,
       t.code AS township_code, t.name AS township, (CAST(:today AS date) - c.deadline) AS days
FROM encroachment c
LEFT JOIN pipeline p ON p.id = c.pipeline_id
LEFT JOIN township t ON t.id = c.township_id
WHERE c.deadline < :today AND NOT c.status = ANY(:done)
ORDER BY c.deadline, c.code
LIMIT :limit;

-- name: overdue_totals
-- How many hazards and encroachments are overdue in all (the lists above stop at :limit).
SELECT i.object_kind, count(*) AS n
FROM register_item i
WHERE i.deadline < :today AND NOT i.status = ANY(CASE i.object_kind WHEN 'hazard' THEN CAST(:hazard_done AS text[])
                                                    ELSE CAST(:encroachment_done AS text[]) END)
GROUP BY 1;

-- name: team_stops
-- Stops of plans whose range reaches :today or later, on routes of the given teams, not yet recorded, in route order.
SELECT p.id AS plan_id, r.team, r.day_on, s.id AS stop_id, s.seq, s.colour, e.id AS enterprise_id, e.name,
       e.address, s.arrival_s
FROM plan_stop s
JOIN plan_route r ON r.id = s.route_id
JOIN inspection_plan p ON p.id = s.plan_id
JOIN enterprise e ON e.id = s.enterprise_id
WHERE r.team = ANY(:teams) AND s.inspection_id IS NULL AND p.end_on >= :today
ORDER BY r.day_on, r.team, s.seq
LIMIT :limit;

-- name: register_status
-- Register objects of one kind by their current status, whenever found (the progress of the whole register).
SELECT i.status, count(*) AS n
FROM register_item i
WHERE i.object_kind = :kind
GROUP BY 1;
