-- 001_payouts.sql: payouts, approvals, signed transactions, nonces and the
-- outbox.  Applied once by `orchestratord migrate`; never edit an applied
-- migration (migrate refuses a changed checksum): add 002_... instead.

-- Statuses of the payout state machine (orchestratord/fsm.c holds the
-- transition table; each transition is an UPDATE ... WHERE status = from).
CREATE TABLE payouts (
	id              bigserial PRIMARY KEY,
	-- The client's idempotency key, also the request id signerd and the
	-- approvers see.  Same charset as signerd's wire protocol.
	request_id      text NOT NULL UNIQUE
	                CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
	asset           text NOT NULL CHECK (asset ~ '^[A-Z0-9]{1,16}$'),
	chain_id        bigint NOT NULL CHECK (chain_id > 0),
	sender          text NOT NULL,		-- EIP-55, the asset's key in signerd
	recipient       text NOT NULL,		-- EIP-55
	amount          numeric(78,0) NOT NULL
	                CHECK (amount > 0 AND amount < 2::numeric ^ 256),
	status          text NOT NULL CHECK (status IN ('PENDING_APPROVAL',
	                'APPROVED', 'QUEUED', 'SIGNING', 'SUBMITTED',
	                'CONFIRMED', 'REJECTED', 'CANCELLED', 'FAILED')),
	approvals_required int NOT NULL DEFAULT 0,
	needs_timelock  boolean NOT NULL DEFAULT false,
	not_before      timestamptz,		-- QUEUED: signer's earliest time
	-- Signing: nonce from sender_nonces; the unsigned transaction is kept
	-- so a retry after a crash asks signerd for exactly the same bytes.
	nonce           bigint,
	unsigned_tx     bytea,
	raw_tx          bytea,			-- the newest signed version
	tx_hash         text UNIQUE,		-- of raw_tx, 0x + 64 hex
	gas_limit       bigint,
	max_fee_per_gas numeric(78,0),
	max_priority_fee_per_gas numeric(78,0),
	submitted_at    timestamptz,
	last_broadcast_at timestamptz,
	bumps           int NOT NULL DEFAULT 0,
	-- Tracking.
	block_number    bigint,
	block_hash      text,
	confirmations   int NOT NULL DEFAULT 0,
	confirmed_at    timestamptz,
	-- Why it ended as it did (signer reason code name and message).
	reason_code     text,
	reason          text,
	-- The newest transient problem (signer down, node down, paused).
	last_error      text,
	-- Lease: one worker at a time; lease_epoch fences a stale worker
	-- (every worker update names the epoch it claimed).
	lease_owner     text,
	lease_expiry    timestamptz,
	lease_epoch     bigint NOT NULL DEFAULT 0,
	attempts        int NOT NULL DEFAULT 0,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Claiming stays fast as the table grows: only rows a worker may take are
-- in these indexes, and terminal rows drop out of them.
CREATE INDEX payouts_claimable ON payouts (id)
	WHERE status IN ('APPROVED', 'QUEUED', 'SIGNING');
CREATE INDEX payouts_inflight ON payouts (id) WHERE status = 'SUBMITTED';
CREATE INDEX payouts_status_id ON payouts (status, id);

CREATE TABLE approvals (
	payout_id   bigint NOT NULL REFERENCES payouts(id),
	approver    text NOT NULL,
	expiry      bigint NOT NULL,		-- unix seconds, inclusive
	signature   bytea NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (payout_id, approver)	-- one vote per approver
);

-- Every signed version of a payout (the first and each fee bump): after a
-- bump either may be mined, so the tracker looks for all of them.
CREATE TABLE payout_txs (
	tx_hash     text PRIMARY KEY,
	payout_id   bigint NOT NULL REFERENCES payouts(id),
	raw_tx      bytea NOT NULL,
	max_fee_per_gas numeric(78,0) NOT NULL,
	max_priority_fee_per_gas numeric(78,0) NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payout_txs_payout ON payout_txs (payout_id);

-- The next nonce per sender and chain, and nonces handed back by payouts
-- that signerd refused (never signed): the next claim takes those first,
-- so no nonce is skipped.
CREATE TABLE sender_nonces (
	sender      text NOT NULL,
	chain_id    bigint NOT NULL,
	next_nonce  bigint NOT NULL CHECK (next_nonce >= 0),
	PRIMARY KEY (sender, chain_id)
);
CREATE TABLE nonce_gaps (
	sender      text NOT NULL,
	chain_id    bigint NOT NULL,
	nonce       bigint NOT NULL,
	PRIMARY KEY (sender, chain_id, nonce)
);

-- State changes and their events are written by one statement, so an
-- event exists exactly when its change does.
CREATE TABLE outbox (
	id          bigserial PRIMARY KEY,
	payout_id   bigint NOT NULL REFERENCES payouts(id),
	event       text NOT NULL,
	payload     jsonb NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_payout ON outbox (payout_id);

-- claim_payout: the worker's one-statement claim (SELECT * FROM
-- claim_payout(worker, lease_ms)).  Takes the oldest row a worker may act
-- on, skipping rows other workers hold (FOR UPDATE SKIP LOCKED):
--   APPROVED          lease only; the worker signs it or, above the
--                     timelock threshold, queues it in signerd;
--   QUEUED, due       moves to SIGNING with a nonce;
--   SIGNING, expired  a crashed or stalled worker's row, taken over with
--                     the nonce and unsigned transaction it already has.
-- An APPROVED row that needs no timelock also moves to SIGNING with a
-- nonce.  The nonce is the sender's lowest handed-back nonce, else its
-- counter (incremented), all in this statement's transaction.
CREATE FUNCTION claim_payout(p_worker text, p_lease_ms int)
RETURNS SETOF payouts LANGUAGE plpgsql AS $$
DECLARE
	r payouts;
	n bigint;
BEGIN
	-- A sender without a counter (not seeded yet) is skipped, not an
	-- error: the oldest row must never block every other.
	SELECT * INTO r FROM payouts p
	 WHERE status IN ('APPROVED', 'QUEUED', 'SIGNING')
	   AND (lease_expiry IS NULL OR lease_expiry < now())
	   AND (status <> 'QUEUED' OR not_before <= now())
	   AND EXISTS (SELECT 1 FROM sender_nonces s
	               WHERE s.sender = p.sender AND s.chain_id = p.chain_id)
	 ORDER BY id
	 FOR UPDATE SKIP LOCKED
	 LIMIT 1;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF r.status = 'QUEUED' OR (r.status = 'APPROVED' AND NOT r.needs_timelock) THEN
		IF r.nonce IS NULL THEN
			DELETE FROM nonce_gaps g
			 WHERE (g.sender, g.chain_id, g.nonce) IN (
				SELECT sender, chain_id, nonce FROM nonce_gaps
				 WHERE sender = r.sender AND chain_id = r.chain_id
				 ORDER BY nonce LIMIT 1 FOR UPDATE)
			 RETURNING g.nonce INTO n;
			IF n IS NULL THEN
				UPDATE sender_nonces SET next_nonce = next_nonce + 1
				 WHERE sender = r.sender AND chain_id = r.chain_id
				 RETURNING next_nonce - 1 INTO n;
				IF n IS NULL THEN
					RAISE EXCEPTION 'no nonce counter for sender % on chain %',
						r.sender, r.chain_id USING ERRCODE = 'P0002';
				END IF;
			END IF;
			r.nonce := n;
		END IF;
		r.status := 'SIGNING';
	END IF;
	UPDATE payouts SET status = r.status, nonce = r.nonce,
		lease_owner = p_worker,
		lease_expiry = now() + p_lease_ms * interval '1 millisecond',
		lease_epoch = lease_epoch + 1, attempts = attempts + 1,
		updated_at = now()
	 WHERE id = r.id
	 RETURNING * INTO r;
	RETURN NEXT r;
END $$;

-- emit: the outbox event of a change, written by the statement that makes
-- the change (callers: SELECT emit(u.*, 'Event') FROM (UPDATE ...) u).
CREATE FUNCTION emit(p payouts, ev text) RETURNS bigint
LANGUAGE sql AS $$
	INSERT INTO outbox (payout_id, event, payload)
	VALUES (p.id, ev, jsonb_build_object(
		'request_id', p.request_id, 'status', p.status,
		'asset', p.asset, 'chain_id', p.chain_id, 'to', p.recipient,
		'amount', p.amount::text, 'nonce', p.nonce,
		'tx_hash', p.tx_hash, 'block_number', p.block_number,
		'confirmations', p.confirmations,
		'reason_code', p.reason_code, 'reason', p.reason))
	RETURNING id
$$;

-- add_approval: stores one approver's vote on a PENDING_APPROVAL payout and
-- approves it when the votes reach approvals_required.  The row lock comes
-- first and each statement below takes a fresh snapshot, so two approvals
-- arriving together both count.  Returns NOT_FOUND, STATE, DUPLICATE,
-- STORED or APPROVED.
CREATE FUNCTION add_approval(p_request text, p_approver text,
	p_expiry bigint, p_sig bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r payouts;
	votes int;
BEGIN
	SELECT * INTO r FROM payouts WHERE request_id = p_request FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 'NOT_FOUND';
	END IF;
	IF r.status <> 'PENDING_APPROVAL' THEN
		RETURN 'STATE';
	END IF;
	INSERT INTO approvals (payout_id, approver, expiry, signature)
	VALUES (r.id, p_approver, p_expiry, p_sig) ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN 'DUPLICATE';
	END IF;
	SELECT count(*) INTO votes FROM approvals WHERE payout_id = r.id;
	IF votes < r.approvals_required THEN
		RETURN 'STORED';
	END IF;
	UPDATE payouts SET status = 'APPROVED', updated_at = now()
	 WHERE id = r.id RETURNING * INTO r;
	PERFORM emit(r, 'PayoutRequestApproved');
	RETURN 'APPROVED';
END $$;

-- end_payout: an approver's reject or cancel, from one of p_from.
-- Returns NOT_FOUND, STATE or OK.
CREATE FUNCTION end_payout(p_request text, p_from text[], p_to text,
	p_code text, p_reason text, p_event text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r payouts;
BEGIN
	SELECT * INTO r FROM payouts WHERE request_id = p_request FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 'NOT_FOUND';
	END IF;
	IF NOT (r.status = ANY (p_from)) THEN
		RETURN 'STATE';
	END IF;
	UPDATE payouts SET status = p_to, reason_code = p_code,
		reason = p_reason, lease_owner = NULL, lease_expiry = NULL,
		updated_at = now()
	 WHERE id = r.id RETURNING * INTO r;
	PERFORM emit(r, p_event);
	RETURN 'OK';
END $$;

-- fail_payout: a worker's payout ends FAILED (under the lease epoch it
-- holds).  A payout that was never signed hands its nonce back: the
-- counter goes down when it was the newest (and past any handed-back
-- nonces just below it), else the nonce waits in nonce_gaps for the next
-- claim.  Not after NONCE_REUSED: signerd holds that nonce signed for
-- another payout, and handing it back would fail every later payout of
-- the sender the same way.  Returns false when the row moved on (another
-- worker has it).
CREATE FUNCTION fail_payout(p_id bigint, p_epoch bigint, p_code text,
	p_reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	r payouts;
	nxt bigint;
BEGIN
	SELECT * INTO r FROM payouts WHERE id = p_id AND lease_epoch = p_epoch
	   AND status IN ('APPROVED', 'QUEUED', 'SIGNING', 'SUBMITTED')
	   FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF r.nonce IS NOT NULL AND r.raw_tx IS NULL
	   AND p_code <> 'NONCE_REUSED' THEN
		SELECT next_nonce INTO nxt FROM sender_nonces
		 WHERE sender = r.sender AND chain_id = r.chain_id FOR UPDATE;
		IF nxt = r.nonce + 1 THEN
			nxt := r.nonce;
			LOOP
				DELETE FROM nonce_gaps WHERE sender = r.sender
				   AND chain_id = r.chain_id AND nonce = nxt - 1;
				EXIT WHEN NOT FOUND;
				nxt := nxt - 1;
			END LOOP;
			UPDATE sender_nonces SET next_nonce = nxt
			 WHERE sender = r.sender AND chain_id = r.chain_id;
		ELSE
			INSERT INTO nonce_gaps VALUES (r.sender, r.chain_id, r.nonce)
			ON CONFLICT DO NOTHING;
		END IF;
		r.nonce := NULL;
	END IF;
	UPDATE payouts SET status = 'FAILED', nonce = r.nonce,
		reason_code = p_code, reason = p_reason,
		lease_owner = NULL, lease_expiry = NULL, updated_at = now()
	 WHERE id = r.id RETURNING * INTO r;
	PERFORM emit(r, 'PayoutFailed');
	RETURN true;
END $$;
