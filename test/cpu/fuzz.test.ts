// `nsa-topk fuzz` on the CPU backend: the CI's share of random cases, and what a failure prints.
import { FuzzOptions, Way, runFuzz } from '../../lib/cli/fuzz';
import { topkSync } from '../../lib';
import { FUZZ_LIMITS, describeCase, fuzzCase } from '../../lib/reference';
import { cli } from '../helpers/cli';

jest.setTimeout(120_000);

test('2,000 random cases on the CPU backend pass', async () => {
  const r = await cli('fuzz', '--backend', 'cpu', '--cases', '2000', '--seed', '2026');
  expect(r.stdout).toContain('fuzz: 2000 cases on cpu (topkSync), seed 2026: 2000 passed, 0 failed');
  expect(r.stdout).not.toContain('FAIL');
  expect(r.code).toBe(0);
});

describe('a failure', () => {
  const options: FuzzOptions = { ...FUZZ_LIMITS, backend: 'cpu', cases: 40, seed: 9, graph: false, maxFailures: 3, progress: false };
  // A broken backend: the first slot of every row with two or more selected positions repeats the second.
  const broken: Way = {
    name: 'broken',
    run: (c) => {
      const out = topkSync(c.scores, { ...c.options, backend: 'cpu' });
      for (let r = 0; r < c.options.rows; r++) if (c.options.k > 1 && out.indices[r * c.options.k + 1] !== -1) out.indices[r * c.options.k] = out.indices[r * c.options.k + 1];
      return out;
    },
  };

  test('prints its case, seed and the command that replays it alone; the run counts it', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(((s: string) => { lines.push(s); return true; }) as never);
    let summary;
    try {
      summary = await runFuzz(options, [broken]);
    } finally {
      write.mockRestore();
    }
    const out = lines.join('');
    expect(summary.failed).toBeGreaterThan(3);
    expect(summary.passed + summary.failed).toBe(40);
    const fails = [...out.matchAll(/^FAIL case (\d+) \(seed 9\): (.*): broken: row \d+: (.*)\n {2}replay: (.*)$/gm)];
    expect(fails).toHaveLength(3);
    const [, index, description, , replay] = fails[0];
    expect(description).toBe(describeCase(fuzzCase(9, Number(index))));
    expect(replay).toBe(`nsa-topk fuzz --backend cpu --seed 9 --case ${index} --max-rows ${FUZZ_LIMITS.maxRows} --max-len ${FUZZ_LIMITS.maxLen} --max-k ${FUZZ_LIMITS.maxK}`);
    expect(out).toContain(`fuzz: 40 cases on cpu (broken), seed 9: ${summary.passed} passed, ${summary.failed} failed`);

    // The replay draws the same case and runs it alone (on the real backend, where it passes).
    const again = await cli(...replay.split(' ').slice(1));
    expect(again.stdout).toContain(`case ${index}: ${description}\noptions: {"k":`);
    expect(again.stdout).toContain('fuzz: 1 case on cpu (topkSync), seed 9: 1 passed, 0 failed');
    expect(again.code).toBe(0);
  });
});

test.each([
  [['--cases', '0'], '--cases must be an integer >= 1, got 0'],
  [['--seed', '-1'], '--seed must be an integer from 0 to 4294967295, got -1'],
  [['--case', '1.5'], '--case must be an integer >= 0, got 1.5'],
  [['--max-len', '0'], '--max-len must be an integer >= 1, got 0'],
  [['--backend', 'tpu'], "argument 'tpu' is invalid. Allowed choices are auto, radix, sort, cpu."],
])('fuzz %j fails with a clear message', async (args, message) => {
  const r = await cli('fuzz', ...args);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(message);
  expect(r.stdout).not.toContain('fuzz:');
});
