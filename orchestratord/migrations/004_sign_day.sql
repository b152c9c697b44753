-- 004_sign_day.sql: the day a payout's signerd request was created
-- (protocol 4, issue 12).  signerd keeps a retention window of days:
-- idempotency holds per (request id, created day), and a request created
-- more days before signerd's day than the window is refused
-- REQUEST_EXPIRED.  So every SIGN_REQ and QUEUE_REQ of one payout (the
-- first, each retry after a lost answer or a lease takeover, every fee
-- bump) must name the same day: it is stored here, once.
-- Applied once by `orchestratord migrate`, after 003.

-- sign_day: days since 1970-01-01 UTC (signerd's pol_utc_day), by
-- PostgreSQL's clock, set the first time a worker or the tracker builds a
-- request for the payout (store_sign_day) and never changed after.  NULL:
-- no request built since this migration (a payout signed before it gets
-- its day at its first fee bump after it).  0 is no day on the wire.
ALTER TABLE payouts ADD COLUMN sign_day integer
	CHECK (sign_day IS NULL OR sign_day >= 1);
