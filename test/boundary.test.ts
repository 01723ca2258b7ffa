// The numbers of the enums that cross into native code: lib/native.ts declares them, lib/config.ts
// sends them, and they must equal the C++ enums of csrc/common/problem.h and csrc/cuda/topk_cuda.h
// (read as text, as errors.test.ts reads the error-code table).
import * as fs from 'fs';
import * as path from 'path';
import { NATIVE_BACKEND, NATIVE_DTYPE, NATIVE_PATH, NATIVE_TIE_BREAK, NATIVE_TRANSFORM } from '../lib/config';

const root = path.join(__dirname, '..');
/** A source file without its line comments (which could hold braces or commas). */
const source = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').replace(/\/\/.*$/gm, '');

/** Every `enum [class] Name [: type] { A = 0, B, ... }` in `text`, as name -> member -> value. */
function enums(text: string, pattern: RegExp): Map<string, Map<string, number>> {
  const found = new Map<string, Map<string, number>>();
  for (const m of text.matchAll(pattern)) {
    const members = new Map<string, number>();
    let next = 0;
    for (const entry of m[2].split(',').map((e) => e.trim()).filter(Boolean)) {
      const [name, value] = entry.split('=').map((p) => p.trim());
      next = value === undefined ? next : Number(value);
      members.set(name, next++);
    }
    found.set(m[1], members);
  }
  return found;
}

const cpp = new Map([
  ...enums(source('csrc/common/problem.h'), /enum class (\w+)\s*:\s*\w+\s*\{([^}]*)\}/g),
  ...enums(source('csrc/cuda/topk_cuda.h'), /enum class (\w+)\s*:\s*\w+\s*\{([^}]*)\}/g),
]);
const ts = enums(source('lib/native.ts'), /export const enum Native(\w+)\s*\{([^}]*)\}/g);

/** Each C++ enum, the map lib/config.ts sends it by. */
const SENT: [string, Record<string, number>][] = [
  ['DType', NATIVE_DTYPE],
  ['TieBreak', NATIVE_TIE_BREAK],
  ['Transform', NATIVE_TRANSFORM],
  ['Backend', NATIVE_BACKEND],
  ['RadixPath', NATIVE_PATH],
];

/** 'page-table' and PageTable, 'bf16' and BF16 are the same member. */
const norm = (name: string) => name.replace(/[^a-z0-9]/gi, '').toLowerCase();

test('the headers declare the enums that cross the boundary', () => {
  expect([...cpp.keys()]).toEqual(expect.arrayContaining(SENT.map(([name]) => name)));
  expect(cpp.get('RadixPath')!.size).toBeGreaterThan(0);
});

test('lib/native.ts declares every C++ enum with the same members and numbers', () => {
  expect(new Set(ts.keys())).toEqual(new Set(cpp.keys()));
  for (const [name, members] of cpp) expect({ name, members: ts.get(name) }).toEqual({ name, members });
});

test.each(SENT)('what lib/config.ts sends for %s is the C++ number of the same member, for every member', (name, sent) => {
  const byName = (entries: [string, number][]) => Object.fromEntries(entries.map(([k, v]) => [norm(k), v]));
  expect(byName(Object.entries(sent))).toEqual(byName([...cpp.get(name)!]));
});
