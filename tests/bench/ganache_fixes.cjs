// ganache_fixes.cjs: node --require preload for the bench's ganache
// (tests/bench/ganache.sh, run by scripts/bench.sh).  It edits the source
// of ganache 7.9.2's chunk as Node loads it (node_modules stays as
// installed) to mend two faults that otherwise time ganache, not the
// orchestrator, once two or more workers send to it under instamine:
//
// 1. The transaction pool decides whether a transaction is its sender's
//    next one against the sender's pending transactions or, when none is
//    pending, against the sender's nonce in the latest block.  One being
//    mined is neither (instamine takes it out of pending at once), and
//    overlapping calls share one nonce lookup; so a transaction arriving
//    while its predecessor is mined is set aside as a future one, and only
//    the arrival of the sender's next executable transaction looks at
//    those again.  After the sender's last one, nothing of the sender is
//    mined any more: here within a few dozen payouts.  Edited as a real
//    node behaves: a transaction being mined counts as pending, and one set
//    aside is looked at again every 20 ms (for 10 s at most) and moved to
//    pending once its sender has nothing pending or being mined and the
//    latest block's nonce has reached it.
// 2. eth_estimateGas runs on a copy of the live state trie.  While a block
//    is mined, that trie's root names nodes that are only in the miner's
//    uncommitted checkpoint; the copy cannot find them and the estimate
//    never settles (no error, no unhandled rejection).  With instamine and
//    several clients that is a quarter of the estimates, each left to its
//    caller's timeout.  Edited: the estimate runs on the latest block's
//    state root, which is what "latest" means; and, as a net, an estimate
//    still unsettled after 250 ms is started again beside the first (the
//    first answer is sent).
//
// Each time an edit acts, a line "ganache_fixes: estimate" or
// "ganache_fixes: promoted N" goes to stderr (ganache's log): the bench
// counts them.  If the code is not the one expected, ganache does not
// start: the bench would time a node that stalls.
"use strict";
const Module = require("module");
const path = require("path");

const EDITS = [
	// eth_estimateGas: the VM on the latest block's state, not the live one.
	["generateVM=async()=>await s.createVmFromStateTrie(s.trie.copy(!1),",
	 "generateVM=async()=>await s.createVmFromStateTrie(" +
	 "(x=>(x.root(n.stateRoot.toBuffer()),x))(s.trie.copy(!1)),"],
	// prepareTransaction, no transaction pending: the sender's next nonce.
	["else{const t=y.nonce.toBigInt();",
	 "else{let t=y.nonce.toBigInt();" +
	 "for(const x of this.executables.inProgress)" +
	 "if(x.from.toString()===u){const q=x.nonce.toBigInt()+1n;q>t&&(t=q)}"],
	// prepareTransaction, set aside as a future transaction.
	["case m.FutureQueue:return _?_.push(e):v.set(u,f.Heap.from(e,byNonce)),!1;",
	 "case m.FutureQueue:return _?_.push(e):v.set(u,f.Heap.from(e,byNonce))," +
	 "globalThis.__benchPoolKick(this,l(this,i,\"f\"),u,r,f.Heap,byNonce,500),!1;"],
	// eth_estimateGas: an attempt that has not settled in 250 ms gets a
	// fresh one beside it (8 at most); the first answer is the answer.
	["l={tx:a.toVmTransaction(),block:c,skipBalance:!0,skipNonce:!0};" +
	 "(0,v.default)(generateVM,l,((e,s)=>{e?r(e):t(y.Quantity.from(s.gasEstimate))}))",
	 "l=0;let done=!1;const attempt=k=>{" +
	 "const L={tx:a.toVmTransaction(),block:c,skipBalance:!0,skipNonce:!0};" +
	 "(0,v.default)(generateVM,L,((e,s)=>{done||(done=!0," +
	 "e?r(e):t(y.Quantity.from(s.gasEstimate)))}));" +
	 "k>0&&setTimeout((()=>{done||(globalThis.__benchFixSay(\"estimate\")," +
	 "attempt(k-1))}),250)};attempt(8)"],
];

// A line on stderr (ganache's log) each time an edit acts.
globalThis.__benchFixSay = (what) =>
	process.stderr.write("ganache_fixes: " + what + "\n");

globalThis.__benchPoolKick = function kick(pool, chain, origin, addr, Heap,
    byNonce, tries) {
	setTimeout(async () => {
		try {
			const q = pool.origins.get(origin);
			if (!q || !q.length)
				return;
			const { pending, inProgress } = pool.executables;
			let busy = !!(pending.get(origin) || {}).length;
			for (const x of inProgress)
				if (x.from.toString() === origin)
					busy = true;
			if (!busy) {
				const acct = await chain.accounts.getNonceAndBalance(addr);
				let next = acct.nonce.toBigInt(), h = pending.get(origin);
				let moved = 0, t;
				while ((t = q.peek()) !== undefined) {
					const n = t.nonce.toBigInt() || 0n;
					if (n > next)
						break;
					if (n === next) {
						if (h)
							h.push(t);
						else
							pending.set(origin, h = Heap.from(t, byNonce));
						moved++;
						next++;
					}
					// n < next: mined in another version; dropped.
					if (!q.removeBest()) {
						pool.origins.delete(origin);
						break;
					}
				}
				if (moved) {
					globalThis.__benchFixSay("promoted " + moved);
					pool.drain();
					return;
				}
			}
			if (tries > 0)
				kick(pool, chain, origin, addr, Heap, byNonce, tries - 1);
		} catch (e) {
			process.stderr.write("ganache_fixes: " + e + "\n");
		}
	}, 20);
};

const compile = Module.prototype._compile;
let patched = false;
Module.prototype._compile = function (content, filename) {
	if (filename.endsWith(path.join("ganache", "dist", "node", "1.js"))) {
		for (const [from, to] of EDITS) {
			if (content.split(from).length !== 2)
				throw new Error("ganache_fixes: " + filename +
				    " is not the ganache 7.9.2 this fix is for");
			content = content.replace(from, () => to);
		}
		patched = true;
	}
	return compile.call(this, content, filename);
};
process.on("exit", () => {
	if (!patched)
		process.stderr.write("ganache_fixes: chunk 1.js was not loaded\n");
});
