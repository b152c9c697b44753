-- 005_webhooks.sql: push delivery of the outbox to the subscribers named
-- in the config ([webhook:NAME], docs/decisions.md D59).  Applied once by
-- `orchestratord migrate`, after 004.
--
-- Nothing here runs inside a payout's transaction but one column default:
-- the webhook workers find new events by themselves and keep their state
-- in tables of their own, so delivery cannot block or slow a payout.

-- xid: the transaction that wrote the event.  Outbox ids come from a
-- sequence, so they are not in commit order: an id below one already seen
-- may still commit.  Transaction ids below a snapshot's xmin are all
-- finished, so "xid < xmin" marks a set of events that can no longer
-- grow; each subscriber's horizon walks over the outbox that way.  NULL
-- for events written before this migration (no subscriber sees them: a
-- subscriber starts at the horizon it is registered with).
ALTER TABLE outbox ADD COLUMN xid xid8;
ALTER TABLE outbox ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX outbox_xid ON outbox (xid) WHERE xid IS NOT NULL;

-- One row per configured subscriber, made when a webhook worker first
-- runs with it.  horizon: every event whose xid is below it has its
-- delivery row (if the subscriber's event filter takes it).
CREATE TABLE webhook_subscribers (
	name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,32}$'),
	horizon     xid8 NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (subscriber, event).  pending: due at next_attempt_at (a
-- worker holds it until lease_expiry); delivered: a 2xx came back; dead:
-- max_attempts failed (the dead-letter list; an admin's replay makes it
-- pending again with attempts 0).  attempts counts attempts begun, and
-- fences a worker whose lease ran out (its finish names the count it
-- claimed).
CREATE TABLE webhook_deliveries (
	subscriber  text NOT NULL REFERENCES webhook_subscribers(name),
	event_id    bigint NOT NULL REFERENCES outbox(id),
	payout_id   bigint NOT NULL,
	status      text NOT NULL DEFAULT 'pending'
	            CHECK (status IN ('pending', 'delivered', 'dead')),
	attempts    int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_attempt_at timestamptz,
	last_http_status int,
	last_error  text,
	lease_owner text,
	lease_expiry timestamptz,
	replays     int NOT NULL DEFAULT 0,
	created_at  timestamptz NOT NULL DEFAULT now(),
	delivered_at timestamptz,
	dead_at     timestamptz,
	PRIMARY KEY (subscriber, event_id)
);
CREATE INDEX webhook_due ON webhook_deliveries (next_attempt_at)
	WHERE status = 'pending';
-- Per-payout order: is an earlier event of this payout still pending?
CREATE INDEX webhook_payout_pending
	ON webhook_deliveries (subscriber, payout_id, event_id)
	WHERE status = 'pending';
CREATE INDEX webhook_dead ON webhook_deliveries (subscriber, event_id)
	WHERE status = 'dead';

-- Every finished attempt: what the backoff chose, for operators and tests.
CREATE TABLE webhook_attempts (
	id          bigserial PRIMARY KEY,
	subscriber  text NOT NULL,
	event_id    bigint NOT NULL,
	attempt     int NOT NULL,		-- 1.. (again from 1 after a replay)
	started_at  timestamptz NOT NULL,
	finished_at timestamptz NOT NULL DEFAULT now(),
	http_status int,			-- NULL: no HTTP answer
	error       text,
	outcome     text NOT NULL CHECK (outcome IN ('delivered', 'retry',
	            'dead')),
	next_attempt_at timestamptz,		-- retry: when the next is due
	FOREIGN KEY (subscriber, event_id)
	    REFERENCES webhook_deliveries (subscriber, event_id)
);
CREATE INDEX webhook_attempts_delivery
	ON webhook_attempts (subscriber, event_id);

-- webhook_register: a subscriber the config names, from now on.  Its
-- horizon starts at the oldest transaction still running, so no event
-- committed after this call is missed.
CREATE FUNCTION webhook_register(p_name text) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO webhook_subscribers (name, horizon)
	VALUES (p_name, pg_snapshot_xmin(pg_current_snapshot()))
	ON CONFLICT (name) DO NOTHING
$$;

-- webhook_fanout: makes the delivery rows of a subscriber's new events
-- (those of p_events, or every event when NULL) and moves its horizon to
-- the xmin of the snapshot that found them, in one statement so both come
-- from the same snapshot.  One replica at a time per subscriber (SKIP
-- LOCKED: another one is at it).  Returns the rows made.
CREATE FUNCTION webhook_fanout(p_name text, p_events text[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	h xid8;
	top xid8;
	n int;
BEGIN
	SELECT horizon INTO h FROM webhook_subscribers WHERE name = p_name
	   FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	WITH x AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS top),
	ins AS (
		INSERT INTO webhook_deliveries (subscriber, event_id, payout_id)
		SELECT p_name, o.id, o.payout_id FROM outbox o, x
		 WHERE o.xid >= h AND o.xid < x.top
		   AND (p_events IS NULL OR o.event = ANY (p_events))
		ON CONFLICT DO NOTHING
		RETURNING 1)
	SELECT x.top, (SELECT count(*) FROM ins) INTO top, n FROM x;
	IF top > h THEN
		UPDATE webhook_subscribers SET horizon = top WHERE name = p_name;
	END IF;
	RETURN n;
END $$;
