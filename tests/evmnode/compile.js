// compile.js: compile one Solidity contract with solc-js (node_modules/solc)
// through its standard JSON interface and print {"abi": [...], "bytecode":
// "0x..."} on stdout.  Errors go to stderr with a non-zero exit.
//   node tests/evmnode/compile.js FILE.sol [CONTRACT] [EVM_VERSION]
// CONTRACT defaults to the file's base name.  EVM_VERSION defaults to
// "shanghai": anvil runs any later hardfork too, the token needs nothing
// newer, and its gas figures (tests/lib/EVMNODE_NOTES.md) are for that code.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require(path.join(__dirname, "node_modules", "solc"));

const file = process.argv[2];
if (!file) {
	process.stderr.write("usage: node compile.js FILE.sol [CONTRACT] [EVM_VERSION]\n");
	process.exit(2);
}
const contract = process.argv[3] || path.basename(file, ".sol");
const evmVersion = process.argv[4] || "shanghai";
const source = path.basename(file);

const input = {
	language: "Solidity",
	sources: { [source]: { content: fs.readFileSync(file, "utf8") } },
	settings: {
		evmVersion,
		optimizer: { enabled: true, runs: 200 },
		outputSelection: { [source]: { [contract]: ["abi", "evm.bytecode.object"] } },
	},
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) {
	process.stderr.write((e.formattedMessage || e.message) + "\n");
}
if (errors.length) process.exit(1);
const c = output.contracts && output.contracts[source] && output.contracts[source][contract];
if (!c || !c.evm.bytecode.object) {
	process.stderr.write(`compile.js: no contract ${contract} in ${file}\n`);
	process.exit(1);
}
process.stdout.write(JSON.stringify({ abi: c.abi, bytecode: "0x" + c.evm.bytecode.object }) + "\n");
