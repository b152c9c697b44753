-- 006_claim_batch.sql: several payouts claimed in one round trip (issue
-- 13).  A worker claims up to p_max rows with one statement and works
-- through them in order, so a claim costs one statement and one commit
-- per batch rather than per payout, and the sender's nonce counter row is
-- locked once per batch.  Applied once by `orchestratord migrate`.

-- claim_payouts: claim_payout (003) up to p_max times in one transaction,
-- stopping at the first that finds nothing.  Each row is claimed exactly
-- as claim_payout claims it (status, nonce, gap_fill, lease), so a batch
-- of one is the single claim.
CREATE FUNCTION claim_payouts(p_worker text, p_lease_ms int,
	p_retired text[], p_max int)
RETURNS SETOF payouts LANGUAGE plpgsql AS $$
DECLARE
	r payouts;
	i int;
BEGIN
	IF p_max < 1 OR p_max > 64 THEN
		RAISE EXCEPTION 'claim_payouts: p_max % outside 1..64', p_max
			USING ERRCODE = '22023';
	END IF;
	FOR i IN 1 .. p_max LOOP
		SELECT * INTO r FROM claim_payout(p_worker, p_lease_ms, p_retired);
		EXIT WHEN NOT FOUND;
		RETURN NEXT r;
	END LOOP;
END $$;
