-- Session helpers for the generator (pg_temp: they vanish with the connection, nothing is left in the schema).
-- u(): a uniform number in [0, 1) from a hash of (stream seed, row key, column), so every value depends only on
-- the seed and the row, never on scan order or parallel workers; the 52 low bits of a 64-bit Jenkins hash.
CREATE OR REPLACE FUNCTION pg_temp.u(s bigint, id bigint, k int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(id * 64 + k, s) & 4503599627370495)::float8 / 4503599627370496::float8 $$;

-- A standard normal number (Box–Muller over columns k and k + 1).
CREATE OR REPLACE FUNCTION pg_temp.gauss(s bigint, id bigint, k int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT sqrt(-2 * ln(1 - pg_temp.u(s, id, k))) * cos(2 * pi() * pg_temp.u(s, id, k + 1)) $$;

-- Reflect v into [lo, hi] (a triangle wave): continuous, so a folded walk stays a connected line.
CREATE OR REPLACE FUNCTION pg_temp.fold(v float8, lo float8, hi float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT hi - abs((v - lo) - 2 * (hi - lo) * floor((v - lo) / (2 * (hi - lo))) - (hi - lo)) $$;

-- A complete USCC: the 17 characters plus their GB 32100-2015 Annex B check character.
CREATE OR REPLACE FUNCTION pg_temp.uscc(body text, charset text, weights int[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT body || substr(charset, mod(31 - mod(sum((strpos(charset, substr(body, i, 1)) - 1) * weights[i]), 31), 31)::int + 1, 1)
   FROM generate_series(1, 17) AS i $$;
