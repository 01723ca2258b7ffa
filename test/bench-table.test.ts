// The README's tables are its raw bench files': scripts/bench-table.js renders the files the
// README names (the default grid's, and the decode grid's with the default grid's for the rest;
// for the H100 grid of main's code, its decode and PDL grids), and every line it renders stands in
// the README as it is.
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';

const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const lines = new Set(readme.split('\n'));
const render = (...args: string[]): string[] =>
  execFileSync(process.execPath, [join(root, 'scripts', 'bench-table.js'), ...args], { cwd: root, encoding: 'utf8' }).trim().split('\n');

/** The first raw file named after `intro` in the README. */
function rawFile(intro: string): string {
  const at = readme.indexOf(intro);
  expect(at).toBeGreaterThanOrEqual(0);
  const m = /\[(docs\/bench\/[^\]]+\.json)\]/.exec(readme.slice(at));
  expect(m).not.toBeNull();
  return m![1];
}

describe('the README\'s H200 tables', () => {
  const grid = rawFile('The default grid now');
  const decode = rawFile('Issue 10\'s decode grid');

  test('the default grid against the issues\' targets', () => {
    const rendered = render(grid);
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.filter((line) => !lines.has(line))).toEqual([]);
  });

  test('issue 10\'s decode grid', () => {
    const rendered = render('--grid', '--rows', '1,8,64', grid, decode);
    expect(rendered).toHaveLength(5);
    expect(rendered.filter((line) => !lines.has(line))).toEqual([]);
  });
});

describe('the README\'s H100 grids of main\'s code', () => {
  const grid = rawFile('Main\'s code on an H100');
  const decode = rawFile('262144 and 1048576, [the decode rows]');
  const pdl = rawFile('With `--pdl` on that H100');

  test('issue 10\'s decode grid, and with PDL', () => {
    const rendered = [...render('--grid', '--rows', '1,8,64', grid, decode), ...render('--grid', '--rows', '1,8,64', pdl)];
    expect(rendered).toHaveLength(10);
    expect(rendered.filter((line) => !lines.has(line))).toEqual([]);
  });
});
