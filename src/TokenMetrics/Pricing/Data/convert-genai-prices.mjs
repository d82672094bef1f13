// Regenerates the genai-prices part of prices.json (see README.md in this folder).
// Usage: node convert-genai-prices.mjs <unpacked @pydantic/genai-prices package dir> <as-of date YYYY-MM-DD> > genai-prices.part.json
// The package is MIT (Pydantic Services Inc.); only per-token prices of the vendors TokenMetrics reads are taken.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const [pkgDir, asOf] = process.argv.slice(2);
// The bundled data is the module's first constant; expose it without executing anything else of ours.
const source = readFileSync(join(pkgDir, 'dist', 'index.cjs'), 'utf8') + ';module.exports.__data=E;';
const file = join(mkdtempSync(join(tmpdir(), 'gp-')), 'x.cjs');
writeFileSync(file, source);
const data = createRequire(import.meta.url)(file).__data;

// genai-prices provider id -> OpenTelemetry gen_ai.provider.name used by TokenMetrics; the order is the catalog's
// preference when a record names no provider (the model's own vendor first, hosts last).
const providers = [
  ['openai', 'openai'], ['anthropic', 'anthropic'], ['google', 'gcp.gemini'], ['deepseek', 'deepseek'],
  ['mistral', 'mistral_ai'], ['moonshotai', 'moonshot_ai'], ['zai', 'zhipu'], ['zhipuai', 'zhipu'], ['x-ai', 'x_ai'],
  ['cohere', 'cohere'], ['minimax', 'minimax'], ['perplexity', 'perplexity'], ['azure', 'azure.ai.openai'], ['aws', 'aws.bedrock'],
];
const batchHalf = { openai: 'https://platform.openai.com/docs/guides/batch', anthropic: 'https://docs.anthropic.com/en/docs/build-with-claude/batch-processing' };

const round = (x) => Math.round(x * 1e9) / 1e9;
function pickPrices(prices) {
  if (!Array.isArray(prices)) return prices;
  let chosen = prices.find((p) => !p.constraint)?.prices;
  for (const p of prices) {
    if (p.constraint?.type === 'start_date' && p.constraint.start_date <= asOf) chosen = p.prices;
  }
  return chosen;
}
function collect(match, out) {
  if (!match) return;
  if (match.or) match.or.forEach((m) => collect(m, out));
  if (match.and) collect(match.and[0], out); // the first clause names the family; the rest only exclude
  if (match.equals) out.aliases.add(match.equals.toLowerCase());
  if (match.starts_with) out.prefixes.add(match.starts_with.toLowerCase());
}
const fields = [['input_mtok', 'input'], ['cache_read_mtok', 'cachedInput'], ['cache_write_mtok', 'cacheWrite'],
  ['cache_write_1h_mtok', 'cacheWrite1h'], ['output_mtok', 'output'], ['output_reasoning_mtok', 'reasoning']];

const models = [];
for (const [id, name] of providers) {
  const p = data.find((x) => x.id === id);
  for (const m of p.models) {
    const prices = pickPrices(m.prices);
    if (!prices || prices.input_mtok === undefined) continue; // not priced per token
    const e = { key: m.id.toLowerCase(), provider: id === 'google' && m.id.startsWith('claude') ? 'gcp.vertex_ai' : name };
    if (id === 'aws') e.key = e.key.replace(/^regional\./, '');
    const names = { aliases: new Set(), prefixes: new Set() };
    if (id !== 'aws') collect(m.match, names); // Bedrock ids are matched by their key (region prefixes are stripped in code)
    names.aliases.delete(e.key);
    if (names.aliases.size) e.aliases = [...names.aliases];
    if (names.prefixes.size) e.prefixes = [...names.prefixes];
    const tiers = new Map();
    for (const [from, to] of fields) {
      const v = prices[from];
      if (v === undefined) continue;
      if (typeof v === 'number') { e[to] = round(v); continue; }
      e[to] = round(v.base);
      for (const t of v.tiers) {
        if (!tiers.has(t.start)) tiers.set(t.start, { aboveInputTokens: t.start });
        tiers.get(t.start)[to] = round(t.price);
      }
    }
    if (tiers.size) e.tiers = [...tiers.values()].sort((a, b) => a.aboveInputTokens - b.aboveInputTokens);
    if (batchHalf[id] && e.output !== undefined) {
      e.batchInput = round(e.input / 2); e.batchOutput = round(e.output / 2);
    }
    e.source = p.pricing_urls[0];
    e.date = asOf;
    e.via = 'genai-prices 0.1.8 (MIT)';
    models.push(e);
  }
}
process.stdout.write(JSON.stringify(models, null, 1));
