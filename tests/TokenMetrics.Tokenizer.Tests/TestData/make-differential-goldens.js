#!/usr/bin/env node
// Writes the goldens of the differential and pathological tests with the oracle (npm tiktoken@1.0.22, the WASM build of
// OpenAI's Rust core; see shared/tools/token-oracle). Tests never need Node; rerun only when the recipes below change.
//
//   node make-differential-goldens.js [--oracle DIR]   DIR holds node_modules/tiktoken (default: $TOKEN_ORACLE_DIR or /work/oracle)
//
// Outputs (goldens/):
//   differential.jsonl.gz  4,000 random strings (fixed seed 20261205): non-BMP letters and digits, long whitespace runs,
//                          contractions in both cases, plus ASCII, CJK, emoji; with the oracle's cl100k_base and o200k_base ids.
//   pathological.jsonl.gz  inputs without split points (one long word, base64, repeated emoji, CJK, digit and space runs,
//                          minified JSON): text, token count and SHA-256 of the ids (little-endian uint32) per encoding.
//                          Kept to tens of KB: the oracle's merge loop is quadratic on them (100,000 'a' take 23 s).
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const crypto = require("crypto");

const args = process.argv.slice(2);
const oracleDir = args.includes("--oracle") ? args[args.indexOf("--oracle") + 1] : (process.env.TOKEN_ORACLE_DIR || "/work/oracle");
const { get_encoding } = require(path.join(oracleDir, "node_modules", "tiktoken"));
const ENCODINGS = ["cl100k_base", "o200k_base"];
const encoders = Object.fromEntries(ENCODINGS.map((e) => [e, get_encoding(e)]));
const encode = (e, text) => Array.from(encoders[e].encode_ordinary(text));
const hashIds = (ids) => {
  const buf = Buffer.alloc(ids.length * 4);
  ids.forEach((id, i) => buf.writeUInt32LE(id, i * 4));
  return crypto.createHash("sha256").update(buf).digest("hex");
};
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20261205);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const between = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const cp = (lo, hi) => String.fromCodePoint(between(lo, hi));

// Ranges chosen for their general categories outside the BMP (what Regex-based .NET tokenizers get wrong).
const generators = [
  () => cp(0x20000, 0x2a6df),                       // CJK Ext B (Lo)
  () => cp(0x1d400, 0x1d6a3),                       // mathematical alphanumerics (Lu/Ll)
  () => cp(0x1d7ce, 0x1d7ff),                       // mathematical digits (Nd)
  () => cp(0x10400, 0x1044f),                       // Deseret (Lu/Ll pairs)
  () => cp(0x104a0, 0x104a9),                       // Osmanya digits (Nd)
  () => cp(0x10107, 0x10133),                       // Aegean numbers (No)
  () => cp(0x1f300, 0x1f64f),                       // emoji (So)
  () => cp(0x1e900, 0x1e943),                       // Adlam (Lu/Ll)
  () => " ".repeat(between(2, 40)),                 // long whitespace runs
  () => pick(["\t", "\n", "\r\n", "\u3000", "\u00a0", "\u2028", "\u0085", "\u200b", "\ufeff"]).repeat(between(1, 12)),
  () => " ".repeat(between(1, 9)) + pick(["\n", "\r\n", "\n\n"]) + " ".repeat(between(0, 9)),
  () => pick(["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D", "'ſ", "’s", "'x"]),
  () => pick(["don", "I", "we", "THEY", "it", "Hello", "world", "naïve", "İstanbul", "straße", "K", "ǅ"]),
  () => String(between(0, 99999)),
  () => pick([".", ",", "!", "?", "...", "/", "//", "(", ")", "{", "}", "\"", "#", "+", "-", "=", "_", "@", "<|endoftext|>"]),
  () => cp(0x4e00, 0x9fff),                         // CJK
  () => cp(0x0300, 0x036f),                         // combining marks
  () => pick(["a", "e", "o", "x"]).repeat(between(1, 30)),
];
const differential = [];
for (let i = 0; i < 4000; i++) {
  const n = between(1, 40);
  let s = "";
  for (let k = 0; k < n; k++) s += pick(generators)();
  const rec = { text: s };
  for (const e of ENCODINGS) rec[e] = encode(e, s);
  differential.push(JSON.stringify(rec));
}
const out = path.join(__dirname, "goldens");
fs.writeFileSync(path.join(out, "differential.jsonl.gz"), zlib.gzipSync(differential.join("\n") + "\n", { level: 9 }));

const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => between(0, 255)));
const letters = (n, alphabet) => Array.from({ length: n }, () => alphabet[between(0, alphabet.length - 1)]).join("");
const json = () => {
  const parts = [];
  for (let i = 0; i < 600; i++) parts.push(`{"id":${between(0, 1e6)},"name":"${letters(between(3, 12), "abcdefghij")}","tags":["x","y"],"v":${rnd().toFixed(4)}}`);
  return "[" + parts.join(",") + "]";
};
const cases = {
  "word-a-20000": "a".repeat(20000),
  "word-lowercase-12000": letters(12000, "abcdefghijklmnopqrstuvwxyz"),
  "word-mixedcase-8000": letters(8000, "aAbBcCdDeE"),
  "base64-24000": randomBytes(18000).toString("base64"),
  "hex-16000": randomBytes(8000).toString("hex"),
  "emoji-4000": "😀".repeat(4000),
  "emoji-zwj-1500": "👨‍👩‍👧".repeat(1500),
  "cjk-run-6000": letters(6000, Array.from({ length: 400 }, (_, k) => String.fromCodePoint(0x4e00 + k * 37))),
  "spaces-20000": " ".repeat(20000) + "x",
  "newlines-spaces-8000": " \n".repeat(4000),
  "digits-30000": letters(30000, "0123456789"),
  "minified-json": json(),
};
const lines = Object.entries(cases).map(([name, text]) => {
  const rec = { name, text };
  for (const e of ENCODINGS) {
    const t0 = Date.now();
    const ids = encode(e, text);
    rec[e] = { tokens: ids.length, sha256: hashIds(ids) };
    console.error(`${name}\t${e}\t${Buffer.byteLength(text)} bytes\t${ids.length} tokens\t${Date.now() - t0} ms`);
  }
  return JSON.stringify(rec);
});
fs.writeFileSync(path.join(out, "pathological.jsonl.gz"), zlib.gzipSync(lines.join("\n") + "\n", { level: 9 }));
console.error(`differential ${differential.length}, pathological ${lines.length}`);
