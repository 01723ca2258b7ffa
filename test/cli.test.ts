// The `nsa-topk` command, run in-process through main(argv) with stdout/stderr captured.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cudaStatus } from '../lib';
import { main } from '../lib/cli/main';

jest.setTimeout(120_000);

interface CliRun { code: number; stdout: string; stderr: string }

async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => { into.push(String(chunk)); return true; };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture(out) as never);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture(err) as never);
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

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

test('--version prints the version', async () => {
  const r = await cli('--version');
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(version);
});

test('bench --backend cpu on a tiny shape prints a table and writes --json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-cli-'));
  const file = path.join(dir, 'bench.json');
  try {
    const r = await cli('bench', '--backend', 'cpu', '--rows', '1,3', '--lengths', '500', '--k', '16', '--iters', '2', '--warmup', '0', '--no-torch', '--json', file);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/error/i);
    // A table: a header line and one line per (rows, length) shape, each naming the backend.
    const lines = r.stdout.split('\n').filter((l) => /\bcpu\b/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    const results = (Array.isArray(json) ? json : (json as { results: unknown[] }).results) as Record<string, unknown>[];
    expect(results.length).toBe(2);
    for (const res of results) {
      expect(res).toMatchObject({ backend: 'cpu', k: 16 });
      expect(JSON.stringify(res)).toMatch(/"rows":(1|3)\b/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bench refuses an unknown backend with a non-zero exit', async () => {
  const r = await cli('bench', '--backend', 'tpu', '--rows', '1', '--lengths', '100', '--k', '4');
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('tpu');
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
