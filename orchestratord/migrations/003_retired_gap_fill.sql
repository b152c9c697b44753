-- 003_retired_gap_fill.sql: holes of a retired sender are filled with its
-- own key (D53, D54).  After a key rotation a nonce of the old sender that
-- is handed back below a nonce it signed (a payout that failed, or moved
-- to the new key) is a hole: the old key's signed transactions above it
-- are never mined until something is signed there.  signerd lets a key
-- no asset of the version in force names (retired) sign a new payout into
-- such a hole; claim_payout now gives the next payout that needs a nonce
-- the lowest such hole, and marks every payout whose nonce is one.
-- Applied once by `orchestratord migrate`, after 002.

-- gap_fill: this claim's nonce is a hole of a retired sender below a nonce
-- it signed, so the payout is signed with from = that sender and does not
-- move to its asset's key.  Set by every claim, cleared by a move (the
-- fallback when signerd refuses the fill), kept once signed: the payout
-- filled a hole.
ALTER TABLE payouts ADD COLUMN gap_fill boolean NOT NULL DEFAULT false;

-- fill_after: signerd refused to fill this hole (or the old sender could
-- not pay for it) when a payout last tried; no claim takes it before then.
-- NULL: any time.
ALTER TABLE nonce_gaps ADD COLUMN fill_after timestamptz;

-- A sender's highest signed nonce on a chain, without a scan.
CREATE INDEX payouts_signed_nonce ON payouts (sender, chain_id, nonce)
	WHERE raw_tx IS NOT NULL;

-- signed_top: the highest nonce the sender signed on the chain as far as
-- this database knows (a payout with a signed transaction, whatever its
-- status), NULL when none.  signerd knows at least as much: every signed
-- transaction stored here came from its journal.
CREATE FUNCTION signed_top(p_sender text, p_chain bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT max(nonce) FROM payouts
	 WHERE sender = p_sender AND chain_id = p_chain AND raw_tx IS NOT NULL
$$;

-- claim_payout: as in 001, with p_retired: the senders (EIP-55) of the
-- keys signerd holds that no asset of the version in force names.  A row
-- that needs a nonce takes, first, the lowest handed-back nonce of a
-- retired sender on its chain below that sender's highest signed nonce
-- (and that sender: a gap fill), else its own sender's lowest handed-back
-- nonce, else its counter.  gap_fill is then set on every claimed row
-- whose sender is retired and whose nonce, not signed yet, is below the
-- sender's highest signed nonce: a payout that held such a nonce before
-- the rotation fills its hole too instead of moving.  A retired sender's
-- holes are locked SKIP LOCKED (one another claim holds is being taken by
-- it); the row's own sender's as in 001.  A gap whose fill_after has not
-- come yet is not taken.
DROP FUNCTION claim_payout(text, int);
CREATE FUNCTION claim_payout(p_worker text, p_lease_ms int,
	p_retired text[] DEFAULT '{}')
RETURNS SETOF payouts LANGUAGE plpgsql AS $$
DECLARE
	r payouts;
	n bigint;
	s text;
	top bigint;
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
			SELECT g.sender, g.nonce INTO s, n FROM nonce_gaps g
			 WHERE g.chain_id = r.chain_id AND g.sender = ANY (p_retired)
			   AND (g.fill_after IS NULL OR g.fill_after <= now())
			   AND g.nonce < signed_top(g.sender, g.chain_id)
			 ORDER BY g.nonce, g.sender
			 LIMIT 1
			 FOR UPDATE SKIP LOCKED;
			IF FOUND THEN
				DELETE FROM nonce_gaps WHERE sender = s
				   AND chain_id = r.chain_id AND nonce = n;
				r.sender := s;
			ELSE
				n := NULL;
				DELETE FROM nonce_gaps g
				 WHERE (g.sender, g.chain_id, g.nonce) IN (
					SELECT sender, chain_id, nonce FROM nonce_gaps
					 WHERE sender = r.sender AND chain_id = r.chain_id
					   AND (fill_after IS NULL OR fill_after <= now())
					 ORDER BY nonce LIMIT 1 FOR UPDATE)
				 RETURNING g.nonce INTO n;
			END IF;
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
	r.gap_fill := false;
	IF r.status = 'SIGNING' AND r.nonce IS NOT NULL AND r.raw_tx IS NULL
	   AND r.sender = ANY (p_retired) THEN
		top := signed_top(r.sender, r.chain_id);
		r.gap_fill := top IS NOT NULL AND r.nonce < top;
	END IF;
	UPDATE payouts SET status = r.status, sender = r.sender, nonce = r.nonce,
		gap_fill = r.gap_fill,
		lease_owner = p_worker,
		lease_expiry = now() + p_lease_ms * interval '1 millisecond',
		lease_epoch = lease_epoch + 1, attempts = attempts + 1,
		updated_at = now()
	 WHERE id = r.id
	 RETURNING * INTO r;
	RETURN NEXT r;
END $$;
