-- 002: the non-customs sources. Each row keeps the release it came from and where it stood in the file.

-- Licence-survey results, long form: published aggregates, and metrics aggregated from respondent microdata.
CREATE TABLE survey_results (
    release_id      VARCHAR NOT NULL,
    source_row      VARCHAR NOT NULL,
    survey_id       VARCHAR NOT NULL,
    publisher       VARCHAR,
    fieldwork_start DATE,
    fieldwork_end   DATE,
    as_of           DATE,
    published_on    DATE,
    scope           VARCHAR,
    unit_of_count   VARCHAR,           -- application | company
    metric          VARCHAR NOT NULL,  -- applications, approved, pending, rejected, respondents, affected, ...
    value           DOUBLE,
    unit            VARCHAR,           -- count | pct
    source_url      VARCHAR,
    basis           VARCHAR NOT NULL   -- published | microdata
);

-- USGS Mineral Commodity Summaries, keyed by edition and year (editions restate earlier years).
CREATE TABLE usgs_figures (
    release_id            VARCHAR NOT NULL,
    source_row            VARCHAR NOT NULL,
    edition               VARCHAR NOT NULL,  -- e.g. MCS2025
    country               VARCHAR NOT NULL,  -- as published; 'World (rounded)' is the world total
    year                  INTEGER NOT NULL,
    mine_production_t_reo DOUBLE,            -- tonnes of rare-earth-oxide equivalent
    reserves_t_reo        DOUBLE,
    note                  VARCHAR,
    source                VARCHAR
);

-- Figures reported by the press, to be held against the customs series.
CREATE TABLE press_claims (
    release_id  VARCHAR NOT NULL,
    source_row  VARCHAR NOT NULL,
    series_id   VARCHAR NOT NULL,   -- as filed by the press (may be the wrong series)
    period      VARCHAR NOT NULL,   -- YYYY-MM, or YYYY for a year figure
    basis       VARCHAR NOT NULL,   -- month | ytd | year
    partner     VARCHAR NOT NULL,   -- ISO alpha-2 or WORLD
    value       DOUBLE,
    unit        VARCHAR,            -- t (tonnes)
    outlet      VARCHAR,
    source_url  VARCHAR
);
