#!/usr/bin/env node
// Writes the golden vectors the tokenizer tests compare against, using the oracle: npm tiktoken@1.0.22, the WASM
// build of OpenAI's Rust core (see shared/tools/token-oracle). Tests never need Node; rerun this only when the
// corpus, the fuzz pool or the cases change.
//
//   node make-goldens.js [--oracle DIR]     DIR holds node_modules/tiktoken (default: $TOKEN_ORACLE_DIR or /work/oracle)
//
// Outputs (goldens/):
//   corpus.jsonl.gz  one object per corpus file and encoding: whole-file token count and SHA-256 of the ids, plus per
//                    chunk (cut after the first "\n" at or past 4096 bytes) "count:first 16 hex of SHA-256".
//   fuzz.jsonl.gz    20,000 random strings (fixed seed) with their full ids in each encoding.
//   cases.jsonl      the named strings of cases.json with their full ids.
// Ids are hashed as little-endian uint32.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const crypto = require("crypto");

const args = process.argv.slice(2);
const oracleDir = args.includes("--oracle") ? args[args.indexOf("--oracle") + 1] : (process.env.TOKEN_ORACLE_DIR || "/work/oracle");
const { get_encoding } = require(path.join(oracleDir, "node_modules", "tiktoken"));
const here = __dirname;
const ENCODINGS = ["cl100k_base", "o200k_base", "p50k_base", "r50k_base"];
const encoders = Object.fromEntries(ENCODINGS.map((e) => [e, get_encoding(e)]));
const encode = (e, text) => Array.from(encoders[e].encode_ordinary(text));

function hashIds(ids) {
  const buf = Buffer.alloc(ids.length * 4);
  ids.forEach((id, i) => buf.writeUInt32LE(id, i * 4));
  return crypto.createHash("sha256").update(buf).digest("hex");
}

function chunks(buf) {
  const out = [];
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, Math.min(start + 4096, buf.length));
    const end = nl < 0 ? buf.length : nl + 1;
    out.push(buf.subarray(start, end));
    start = end;
  }
  return out;
}

// --- corpus
fs.mkdirSync(path.join(here, "goldens"), { recursive: true });
const corpusDir = path.join(here, "corpus");
const lines = [];
for (const f of fs.readdirSync(corpusDir).filter((f) => f.endsWith(".txt.gz")).sort()) {
  const buf = zlib.gunzipSync(fs.readFileSync(path.join(corpusDir, f)));
  const name = f.replace(/\.gz$/, "");
  for (const e of ENCODINGS) {
    const ids = encode(e, buf.toString("utf8"));
    const parts = chunks(buf).map((c) => { const x = encode(e, c.toString("utf8")); return `${x.length}:${hashIds(x).slice(0, 16)}`; });
    lines.push(JSON.stringify({ file: name, encoding: e, bytes: buf.length, tokens: ids.length, sha256: hashIds(ids), chunks: parts.join(",") }));
    console.error(`${name}\t${e}\t${ids.length} tokens\t${parts.length} chunks`);
  }
}
fs.writeFileSync(path.join(here, "goldens", "corpus.jsonl.gz"), zlib.gzipSync(lines.join("\n") + "\n", { level: 9 }));

// --- fuzz: the same pool as FuzzPool.cs in the tests (keep them in sync).
const pool = require(path.join(here, "fuzz-pool.json"));
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20261122);
const fuzz = [];
for (let i = 0; i < 20000; i++) {
  const n = 1 + Math.floor(rnd() * 24);
  let s = "";
  for (let k = 0; k < n; k++) s += pool[Math.floor(rnd() * pool.length)];
  const rec = { text: s };
  for (const e of ENCODINGS) rec[e] = encode(e, s);
  fuzz.push(JSON.stringify(rec));
}
fs.writeFileSync(path.join(here, "goldens", "fuzz.jsonl.gz"), zlib.gzipSync(fuzz.join("\n") + "\n", { level: 9 }));

// --- named cases
const cases = JSON.parse(fs.readFileSync(path.join(here, "cases.json"), "utf8"));
const caseLines = Object.entries(cases).map(([name, text]) => {
  const rec = { name, text };
  for (const e of ENCODINGS) rec[e] = encode(e, text);
  return JSON.stringify(rec);
});
fs.writeFileSync(path.join(here, "goldens", "cases.jsonl"), caseLines.join("\n") + "\n");
console.error(`fuzz ${fuzz.length}, cases ${caseLines.length}`);
