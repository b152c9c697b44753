-- 002_cancel_fence_receipts.sql: an approver's reject or cancel can no
-- longer race a worker that is queueing the payout in signerd (issue 15),
-- and every signed version keeps signerd's receipt (the seq and SHA-256 of
-- the journal record that authorized it).  Applied once by `orchestratord
-- migrate`, after 001.

-- queue_sent: a worker sent (or was about to send) this payout's QUEUE_REQ
-- to signerd, so signerd may hold it queued, and a queued payout is
-- signable there until an approver's signed cancel reaches signerd.  Set
-- by the worker under its lease before the request leaves, never cleared.
-- Rows of 001 that a worker claimed for queueing count as sent.
ALTER TABLE payouts ADD COLUMN queue_sent boolean NOT NULL DEFAULT false;
UPDATE payouts SET queue_sent = true
 WHERE status = 'QUEUED'
    OR (status = 'APPROVED' AND needs_timelock AND attempts > 0);

-- The receipt of each signed version: NULL for versions signed before
-- signerd returned receipts.
ALTER TABLE payout_txs
	ADD COLUMN receipt_seq bigint CHECK (receipt_seq >= 1),
	ADD COLUMN receipt_hash text CHECK (receipt_hash ~ '^[0-9a-f]{64}$'),
	ADD CONSTRAINT payout_txs_receipt_whole
	    CHECK ((receipt_seq IS NULL) = (receipt_hash IS NULL));

-- end_payout: an approver's reject or cancel, from one of p_from.
-- p_signerd is true when signerd has cancelled the payout (CANCEL_REQ
-- answered OK, journaled): then nothing a worker still has in flight can
-- be signed, and the row ends whoever holds it.  Otherwise the row ends
-- only if signerd cannot hold it: refused with IN_SIGNERD once a worker
-- sent its QUEUE_REQ (or it is QUEUED), and with BUSY while a worker
-- holds a live lease on it (it may be about to send one).  The lease
-- epoch moves on, so a worker still holding the old one is fenced.
-- Returns NOT_FOUND, STATE, BUSY, IN_SIGNERD or OK.
DROP FUNCTION end_payout(text, text[], text, text, text, text);
CREATE FUNCTION end_payout(p_request text, p_from text[], p_to text,
	p_code text, p_reason text, p_event text, p_signerd boolean)
RETURNS text LANGUAGE plpgsql AS $$
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
	IF NOT p_signerd THEN
		IF r.queue_sent OR r.status = 'QUEUED' THEN
			RETURN 'IN_SIGNERD';
		END IF;
		IF r.lease_owner IS NOT NULL AND r.lease_expiry > now() THEN
			RETURN 'BUSY';
		END IF;
	END IF;
	UPDATE payouts SET status = p_to, reason_code = p_code,
		reason = p_reason, lease_owner = NULL, lease_expiry = NULL,
		lease_epoch = lease_epoch + 1, updated_at = now()
	 WHERE id = r.id RETURNING * INTO r;
	PERFORM emit(r, p_event);
	RETURN 'OK';
END $$;
