-- 003: compliance events, one row per decision a module took (or one admin action), written in
-- batches by the event pipeline (xmpp-core/src/events/). Read by compliance officers
-- (parleyctl events, the admin API), so the indexes follow their questions: what did this
-- person do, what did this module decide, what happened in this period.
--
-- Partitioned by month of `at` (UTC) so that retention drops whole partitions instead of
-- deleting rows. Partitions are created on demand by the writer through
-- parley_events_ensure_partition(); the DEFAULT partition catches anything that arrives for a
-- month that has none (so an insert never fails for want of a partition).
--
-- Idempotency: the pipeline may write an event twice (a spool replayed after a crash, a commit
-- whose outcome was lost with the connection). It inserts with ON CONFLICT (id, at) DO NOTHING;
-- `at` is part of the key only because a partitioned table's primary key must contain the
-- partition key, and an event's `at` never changes between attempts.

CREATE TABLE events (
  id        uuid NOT NULL,
  at        timestamptz NOT NULL,
  node      text NOT NULL DEFAULT '',   -- which parleyd wrote it
  module    text NOT NULL DEFAULT '',   -- '' for the core itself
  clause    text NOT NULL DEFAULT '',   -- the policy clause the module enforces
  kind      text NOT NULL,              -- dotted: 'file_transfer.jingle'
  action    text NOT NULL CHECK (action IN ('allowed', 'blocked', 'redacted', 'flagged',
                                            'would_block', 'admin', 'error')),
  severity  text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  actor     text NOT NULL DEFAULT '',   -- JID that acted; '' when unknown
  target    text NOT NULL DEFAULT '',   -- JID acted upon
  stanza_id text NOT NULL DEFAULT '',
  direction text NOT NULL DEFAULT 'none'
            CHECK (direction IN ('inbound', 'outbound', 'local', 'none')),
  session   text NOT NULL DEFAULT '',
  detail    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);

CREATE INDEX events_actor_at ON events (actor, at);
CREATE INDEX events_module_at ON events (module, at);
CREATE INDEX events_at ON events (at);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Makes sure the partition for the month containing `month` exists (events_YYYY_MM, bounds in
-- UTC). Called by the writer for the months of every batch, in the batch's transaction, so
-- the common case must be cheap: one catalog lookup.
CREATE FUNCTION parley_events_ensure_partition(month date) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  first_day date := date_trunc('month', month)::date;
  part text := 'events_' || to_char(first_day, 'YYYY_MM');
  -- Bounds as ISO text with an explicit offset: independent of the session's TimeZone and
  -- DateStyle, which would otherwise shift or garble the month.
  lo text := to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00';
  hi text := to_char((first_day + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00';
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  -- Several nodes (or a node and parleyctl) may get here for the same month at once: the
  -- second one waits for the first one's commit and then finds the partition. The key is
  -- arbitrary but fixed forever ('PRLYEVPT' in ASCII).
  PERFORM pg_advisory_xact_lock(5787772417423593556);
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  -- CREATE TABLE ... PARTITION OF would lock the whole events table against readers; building
  -- the table aside and attaching it only takes SHARE UPDATE EXCLUSIVE on events.
  EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING ALL)', part);
  -- Rows of this month already in the default partition (written while the month had no
  -- partition, e.g. a spool replayed after retention dropped it) move into the new one:
  -- ATTACH refuses a range the default partition still holds rows for.
  EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE at >= %L AND at < %L '
                 'RETURNING *) INSERT INTO %I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                 part, lo, hi);
END
$fn$;
