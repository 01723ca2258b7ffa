#!/usr/bin/env node
// Markdown tables of `nsa-topk bench --json` results, as the README shows them, with the batch
// and decode issues' targets (docs/bench/targets.json): a row per shape (the default), or a grid
// of rows by lengths (--grid; --rows LIST keeps those row counts), whose cells come from every
// file given (later files win). test/bench-table.test.ts holds the README's tables to their files.
// Usage: node scripts/bench-table.js [--grid [--rows 1,8,64]] FILE.json...
'use strict';
const fs = require('fs');
const path = require('path');

const { targets } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'docs', 'bench', 'targets.json'), 'utf8'));

/** The targets' key of a result: ROWSxLENGTH, then what differs from f32, k = 2048, normal, unsorted. */
function keyOf(r, options) {
  const parts = [`${r.rows}x${r.length}`];
  if (r.dist && r.dist !== 'normal') parts.push(r.dist);
  if (r.k !== 2048) parts.push(`k=${r.k}`);
  if (r.dtype !== 'f32') parts.push(r.dtype);
  if (options && options.sorted) parts.push('sorted');
  return parts.join(' ');
}

/** A time as the tables show it (to 0.1 us), which the targets are held to. */
const shown = (us) => Number(us.toFixed(1));

/** "<= T (met)" or "<= T (missed, 1.23x)"; empty without a target. */
function target(us, t) {
  if (t === undefined) return '';
  return shown(us) <= t ? `<= ${t} (met)` : `<= ${t} (missed, ${(shown(us) / t).toFixed(2)}x)`;
}

const fixed = (x, digits) => (x === undefined || x === null ? '' : x.toFixed(digits));

function rowsTable(files) {
  const lines = ['| rows x length | nsa-topk us | read us | x read | torch.topk us | speedup | issue target us |',
    '|---|---:|---:|---:|---:|---:|---|'];
  for (const f of files)
    for (const r of f.results)
      lines.push(`| ${r.rows} x ${r.length} | ${fixed(r.medianUs, 1)} | ${fixed(r.probeUs, 1)} | ${fixed(r.readRatio, 2)} | ` +
        `${fixed(r.torchUs, 1)} | ${fixed(r.torchSpeedup, 2)} | ${target(r.medianUs, targets[keyOf(r, f.options)])} |`);
  return lines;
}

function gridTable(files, only) {
  const cells = new Map();
  for (const f of files) for (const r of f.results) cells.set(`${r.rows}x${r.length}`, { r, options: f.options });
  const rows = [...new Set([...cells.values()].map((c) => c.r.rows))].filter((n) => !only || only.includes(n)).sort((a, b) => a - b);
  const lengths = [...new Set([...cells.values()].map((c) => c.r.length))].sort((a, b) => a - b);
  const lines = [`| rows x length | ${lengths.join(' | ')} |`, `|---|${lengths.map(() => '---:').join('|')}|`];
  for (const n of rows) {
    const row = lengths.map((len) => {
      const c = cells.get(`${n}x${len}`);
      if (!c) return '';
      const t = targets[keyOf(c.r, c.options)];
      const us = fixed(c.r.medianUs, 1);
      return t === undefined ? us : `${us} (<= ${t}${shown(c.r.medianUs) <= t ? ', met' : ''})`;
    });
    lines.push(`| ${n} | ${row.join(' | ')} |`);
  }
  return lines;
}

const args = process.argv.slice(2);
const grid = args[0] === '--grid';
if (grid) args.shift();
let only;
if (grid && args[0] === '--rows') {
  only = args[1].split(',').map(Number);
  args.splice(0, 2);
}
const usage = 'usage: node scripts/bench-table.js [--grid [--rows 1,8,64]] FILE.json...\n';
if (args.length === 0 || args.some((a) => a.startsWith('--'))) {  // options come first, in that order
  process.stderr.write(usage);
  process.exit(2);
}
const read = (n) => {
  try {
    return JSON.parse(fs.readFileSync(n, 'utf8'));
  } catch (e) {
    process.stderr.write(`bench-table: ${n}: ${e.message}\n${usage}`);
    process.exit(1);
  }
};
const files = args.map(read);
process.stdout.write((grid ? gridTable(files, only) : rowsTable(files)).join('\n') + '\n');
