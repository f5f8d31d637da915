-- 001_core: the warehouse's own tables. Curated tables are rebuilt from these by models/*.sql.

-- One row per landed file (a second landing of the same bytes gets its own row with status 'duplicate').
CREATE TABLE releases (
    release_id       VARCHAR NOT NULL,   -- SHA-256 of the file's bytes; raw/<release_id> holds them
    file_name        VARCHAR NOT NULL,   -- the name it was landed under
    landing_key      VARCHAR,            -- where it sat in landing/
    layout           VARCHAR,            -- detected layout, e.g. gacc_headline_en_csv
    vintage          VARCHAR,            -- release kind: preliminary | bulletin | detailed | mirror ...
    vintage_rank     INTEGER,            -- later kinds restate earlier ones: higher rank prevails
    published_on     DATE,
    published_on_estimated BOOLEAN,      -- true when the date comes from the release calendar, not the file
    landed_at        TIMESTAMP,
    ingested_at      TIMESTAMP,
    size_bytes       BIGINT,
    rows_in          BIGINT,
    rows_loaded      BIGINT,
    rows_quarantined BIGINT,
    status           VARCHAR NOT NULL,   -- loaded | partly_quarantined | quarantined | duplicate | failed
    message          VARCHAR,
    run_id           VARCHAR
);

-- Every observation of every vintage; never updated in place (a replay deletes and reloads one release).
CREATE TABLE observations (
    release_id      VARCHAR NOT NULL,
    source_row      VARCHAR,            -- line number, or sheet!row
    series_id       VARCHAR NOT NULL,   -- gacc_rare_earths, gacc_magnets_850511, or gacc_commodity:<name>
    commodity       VARCHAR,            -- as published
    hs_code         VARCHAR,            -- China's 10-digit commodity code (detailed exports), or HS6 (mirror data)
    period          DATE NOT NULL,      -- first day of the month
    basis           VARCHAR NOT NULL,   -- month | jan_feb | ytd (Jan..period cumulative)
    partner         VARCHAR NOT NULL,   -- ISO 3166-1 alpha-2, or WORLD
    partner_name    VARCHAR,
    measure         VARCHAR NOT NULL,   -- quantity_t | value_usd | value_cny | yoy_quantity_pct | yoy_value_pct
    value           DOUBLE,             -- normalised: tonnes, USD, CNY, percent
    published_value VARCHAR,            -- as printed
    published_unit  VARCHAR,            -- as printed (吨, USD1 Million, 万元 ...)
    trade_mode      VARCHAR             -- detailed exports only (一般贸易 …); curated tables sum over it
);
-- Vintage and publication date are the release's: models join `releases` on release_id.

CREATE TABLE quarantined_rows (
    release_id VARCHAR NOT NULL,
    source_row VARCHAR,
    rule       VARCHAR NOT NULL,
    message    VARCHAR NOT NULL,
    raw_record JSON
);

-- Identity checks (YTD, parts ≤ whole) found while loading: warnings with the numbers, never silent fixes.
CREATE TABLE load_warnings (
    release_id VARCHAR,
    rule       VARCHAR NOT NULL,
    message    VARCHAR NOT NULL,
    run_id     VARCHAR
);

-- What `run` has already looked at in landing/, so unchanged files are not read again.
CREATE TABLE landing_seen (
    landing_key VARCHAR NOT NULL,
    size_bytes  BIGINT NOT NULL,
    modified    TIMESTAMP NOT NULL,
    release_id  VARCHAR,
    seen_at     TIMESTAMP NOT NULL
);

CREATE TABLE runs (
    run_id            VARCHAR PRIMARY KEY,
    command           VARCHAR,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR,          -- running | published | blocked | failed | nothing_new
    files_in          INTEGER,
    rows_loaded       BIGINT,
    rows_quarantined  BIGINT,
    published_version VARCHAR,
    message           VARCHAR
);

CREATE TABLE publications (
    version      VARCHAR PRIMARY KEY,    -- e.g. 20251130T101500Z-1a2b3c
    run_id       VARCHAR,
    published_at TIMESTAMP NOT NULL,
    tables       VARCHAR[]
);

CREATE TABLE quality_results (
    run_id           VARCHAR,
    suite            VARCHAR,
    table_name       VARCHAR,
    expectation      VARCHAR,
    severity         VARCHAR,
    success          BOOLEAN,
    unexpected_count BIGINT,
    observed         VARCHAR,
    checked_at       TIMESTAMP
);
