// The `nsa-topk` command (info, bench, verify), run in-process through main(argv).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cudaStatus } from '../lib';
import { BenchOptions, benchCommand, graphRotation } from '../lib/cli/bench';
import { OPTION_SOURCES } from '../lib/options';
import { CliRun, cli } from './helpers/cli';

jest.setTimeout(120_000);

const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

test('info prints the version, whether CUDA is compiled in, and why no device', async () => {
  const r = await cli('info');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`nsa-topk ${version}`);
  const status = cudaStatus();
  expect(r.stdout).toMatch(new RegExp(`cuda compiled in: ${status.compiled ? 'yes' : 'no'}`, 'i'));
  if (!status.usable) expect(r.stdout).toContain(status.reason!);
  for (const flag of ['--nsa-topk-backend', 'NSA_TOPK_TIE_BREAK']) expect(r.stdout).toContain(flag);
});

test('info --json is machine-readable', async () => {
  const r = await cli('info', '--json');
  expect(r.code).toBe(0);
  const info = JSON.parse(r.stdout) as { version: string; cuda: { compiled: boolean; usable: boolean } };
  expect(info.version).toBe(version);
  expect(info.cuda).toMatchObject({ compiled: cudaStatus().compiled, usable: cudaStatus().usable });
});

// The README runs the command as `npx nsa-topk` in a clone: npm runs the package's own bin file,
// which the build must leave executable (tsc writes it 0644).
test('the package bin is an executable node script', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = path.join(__dirname, '..', pkg.bin['nsa-topk']);
  expect(fs.statSync(bin).mode & 0o111).toBe(0o111);
  expect(fs.readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

test('--version prints the version', async () => {
  const r = await cli('--version');
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(version);
});

type BenchJson = Record<string, unknown> & { options: Record<string, unknown>; results: Record<string, unknown>[] };

/** Runs the CLI with `--json <file>` appended and reads the file back (undefined when none was written). */
async function cliJson(...argv: string[]): Promise<CliRun & { json?: BenchJson }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-cli-'));
  const file = path.join(dir, 'bench.json');
  try {
    const r = await cli(...argv, '--json', file);
    return { ...r, json: fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as BenchJson : undefined };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('bench --backend cpu: one table row and one JSON result per (k, rows, length), k first', async () => {
  const r = await cliJson('bench', '--backend', 'cpu', '--rows', '1,3', '--lengths', '500', '--k', '16,4', '--dist', 'relu', '--iters', '2', '--warmup', '0', '--no-torch');
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.stdout).toContain('timing: wall clock, median of 2 calls; scores: relu f32');
  const lines = r.stdout.split('\n').filter((l) => /\bcpu\b/.test(l)).map((l) => l.split(/\s+/)[0] + l.match(/ k=\d+/)![0]);
  expect(lines).toEqual(['1x500 k=16', '3x500 k=16', '1x500 k=4', '3x500 k=4']);
  expect(r.json).toMatchObject({ method: 'wall', dist: 'relu' });
  expect(r.json!.results.map((res) => [res.k, res.rows, res.length, res.dist, res.backend])).toEqual([
    [16, 1, 500, 'relu', 'cpu'], [16, 3, 500, 'relu', 'cpu'], [4, 1, 500, 'relu', 'cpu'], [4, 3, 500, 'relu', 'cpu'],
  ]);
});

test('bench --progress draws its bar on a stderr that is not a terminal (a log file, CI)', async () => {
  expect(process.stderr.isTTY).toBeFalsy();
  const r = await cli('bench', '--backend', 'cpu', '--rows', '1', '--lengths', '64', '--k', '4', '--iters', '1', '--warmup', '0', '--no-torch', '--progress');
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/bench \[=+\] 1\/1/);
});

describe('the library\'s --nsa-topk-* flags and NSA_TOPK_* variables', () => {
  const quick = ['--rows', '1', '--lengths', '64', '--k', '4', '--iters', '1', '--warmup', '0', '--no-torch'];

  test('set the defaults of the bench options of the same name, from anywhere on the line; a bench option wins', async () => {
    const r = await cliJson('--nsa-topk-tie-break', 'large', '--nsa-topk-deterministic', 'bench', '--backend', 'cpu', '--nsa-topk-fuse=page-table', '--fuse', 'none', ...quick);
    expect(r.code).toBe(0);
    expect(r.json!.options).toMatchObject({ tieBreak: 'large', deterministic: true, fuse: 'none', backend: 'cpu' });
    expect(r.stdout).toMatch(/; output: deterministic, tie-break large\n/);
  });

  test('the variables too, below the flags', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { NSA_TOPK_TIE_BREAK: 'small', NSA_TOPK_DETERMINISTIC: '1', NSA_TOPK_BACKEND: 'cpu' });
    try {
      const r = await cliJson('bench', '--nsa-topk-tie-break=large', ...quick);
      expect(r.code).toBe(0);
      expect(r.json!.options).toMatchObject({ tieBreak: 'large', deterministic: true, backend: 'cpu' });
    } finally {
      for (const name of ['NSA_TOPK_TIE_BREAK', 'NSA_TOPK_DETERMINISTIC', 'NSA_TOPK_BACKEND']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  test('a bad value fails a command that would use it, naming its source, and no other', async () => {
    const bad = await cli('bench', '--nsa-topk-backend=tpu', ...quick);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERR_NSA_TOPK_UNKNOWN_BACKEND');
    expect(bad.stderr).toContain('--nsa-topk-backend');
    expect((await cli('bench', '--nsa-topk-backend=tpu', '--backend', 'cpu', ...quick)).code).toBe(0);
    expect((await cli('info', '--nsa-topk-backend', '--nsa-topk-graph-safe=maybe')).code).toBe(0);
  });

  test('--help lists every flag and variable', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const { flag, env } of Object.values(OPTION_SOURCES)) {
      expect(r.stdout).toContain(flag);
      expect(r.stdout).toContain(env);
    }
  });
});

test('bench refuses an unknown backend with a non-zero exit', async () => {
  const r = await cli('bench', '--backend', 'tpu', '--rows', '1', '--lengths', '100', '--k', '4');
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('tpu');
});

/** The options `bench` parses from `argv`, without running it. */
async function benchOptions(...argv: string[]): Promise<BenchOptions> {
  let parsed: BenchOptions | undefined;
  const cmd = benchCommand(() => undefined).exitOverride().action((opts: BenchOptions) => { parsed = opts; });
  await cmd.parseAsync(argv, { from: 'user' });
  return parsed!;
}

describe('bench options', () => {
  test('defaults: graph timing of 20 calls a graph and 10 replays, normal scores, k 2048', async () => {
    expect(await benchOptions()).toMatchObject({ timing: 'graph', graphCalls: 20, replays: 10, dist: 'normal', k: [2048], dtype: 'f32' });
  });

  test('--k takes a list; --dist, --timing, --graph-calls and --replays their values', async () => {
    const o = await benchOptions('--k', '512, 1024,2048', '--dist', 'equal', '--timing', 'hold', '--graph-calls', '50', '--replays', '3');
    expect(o).toMatchObject({ k: [512, 1024, 2048], dist: 'equal', timing: 'hold', graphCalls: 50, replays: 3 });
    expect((await benchOptions('--graph-calls', '10', '--dist', 'relu')).graphCalls).toBe(10);
  });

  test('--pdl builds the ops with pdl: true (off by default); the CPU backend says it has none', async () => {
    expect((await benchOptions()).pdl).toBe(false);
    expect((await benchOptions('--pdl')).pdl).toBe(true);
    const r = await cli('bench', '--backend', 'cpu', '--pdl', '--rows', '1', '--lengths', '100', '--k', '4', '--iters', '1', '--warmup', '0', '--no-torch');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no PDL launches: --pdl needs a CUDA backend');
  });

  test('--max-rows and --max-len set the ops\' maxima (each shape\'s own by default); the CPU backend says it has none', async () => {
    const defaults = await benchOptions();
    expect([defaults.maxRows, defaults.maxLen]).toEqual([undefined, undefined]);
    expect(await benchOptions('--max-rows', '8', '--max-len', '1048576')).toMatchObject({ maxRows: 8, maxLen: 1048576 });
    const r = await cli('bench', '--backend', 'cpu', '--max-len', '400', '--rows', '1', '--lengths', '100', '--k', '4', '--iters', '1', '--warmup', '0', '--no-torch');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no op maxima: --max-rows and --max-len need a CUDA backend');
  });

  test('--row-lengths gives the calls device-side lengths, cycled over the rows; the table and results show them', async () => {
    expect((await benchOptions()).rowLengths).toBeUndefined();
    expect((await benchOptions('--row-lengths', '4096,1048576')).rowLengths).toEqual([4096, 1048576]);
    const r = await cliJson('bench', '--backend', 'cpu', '--rows', '3', '--lengths', '400', '--row-lengths', '100,400', '--k', '4', '--iters', '1', '--warmup', '0', '--no-torch');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3x400 (lengths 100/400) k=4 f32');
    const [result] = r.json!.results as { rowLengths: number[]; gbps: number; medianUs: number }[];
    expect(result.rowLengths).toEqual([100, 400]);
    // Rows 100, 400 and 100 long: 600 scores of 4 bytes.
    expect(result.gbps).toBeCloseTo(2400 / (result.medianUs * 1e-6) / 1e9, 6);
  });

  test.each([
    [['--k', '512,x'], '--k must be a comma-separated list of positive integers, got 512,x'],
    [['--k', '0'], '--k must be a comma-separated list of positive integers, got 0'],
    [['--k', '64,'], '--k must be a comma-separated list of positive integers, got 64,'],
    [['--graph-calls', '9'], '--graph-calls must be an integer from 10 to 50, got 9'],
    [['--graph-calls', '51'], '--graph-calls must be an integer from 10 to 50, got 51'],
    [['--graph-calls', '12.5'], '--graph-calls must be an integer from 10 to 50, got 12.5'],
    [['--replays', '0'], '--replays must be an integer >= 1, got 0'],
    [['--max-len', '0'], '--max-len must be an integer >= 1, got 0'],
    // An op refuses calls past its maxima: refused before any input is made.
    [['--max-len', '50'], '--max-len 50 is below the length 100'],
    [['--rows', '1,8', '--max-rows', '4'], '--max-rows 4 is below the row count 8'],
    [['--row-lengths', '50,200'], '--row-lengths 200 is above the length 100'],
    [['--row-lengths', '5,x'], '--row-lengths must be a comma-separated list of positive integers, got 5,x'],
    [['--dist', 'uniform'], "argument 'uniform' is invalid. Allowed choices are normal, relu, equal, hotSpan."],
    [['--timing', 'events'], "argument 'events' is invalid. Allowed choices are graph, hold."],
  ])('bench %j fails with a clear message', async (args, message) => {
    const r = await cli('bench', '--backend', 'cpu', '--rows', '1', '--lengths', '100', ...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).not.toContain('timing:');
  });
});

describe('graphRotation', () => {
  // Replays graphs 0, 1, ... in turn for two whole rotations and checks when each input comes back.
  test.each([[2, 20], [3, 20], [13, 20], [14, 20], [20, 20], [21, 20], [2, 23], [3861, 20], [120, 10], [7, 50]])('%d sets, graphs of %d calls: every input is read once per rotation of >= sets calls', (sets, calls) => {
    const { buffers, graphs } = graphRotation(sets, calls);
    expect(buffers).toBeGreaterThanOrEqual(sets);
    expect(buffers).toBeLessThan(sets + calls);
    const lastRead = new Map<number, number>();
    for (let t = 0; t < 2 * graphs * calls; t++) {
      const g = Math.floor(t / calls) % graphs;
      const input = (g * calls + (t % calls)) % buffers;
      const last = lastRead.get(input);
      if (last !== undefined) expect(t - last).toBe(buffers);
      lastRead.set(input, t);
    }
    expect(lastRead.size).toBe(buffers);
  });
});

test('verify passes with exit code 0', async () => {
  const r = await cli('verify');
  expect(r.stdout).toMatch(/verify: \d+ passed, 0 failed/);
  expect(r.code).toBe(0);
});

test('an unknown command exits non-zero', async () => {
  const r = await cli('frobnicate');
  expect(r.code).not.toBe(0);
});
