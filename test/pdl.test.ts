// The pdl option (programmatic dependent launch) where no GPU is needed: checked once in
// TypeScript like every boolean option, sent to native code in the config, and accepted and
// ignored by the CPU backend. Its effect on the CUDA kernels is tested in gpu/pdl.test.ts.
import { TopK, topk, topkSync } from '../lib';
import { loadNative } from '../lib/loader';
import { makeScores } from '../lib/reference';
import { Refusals, badBools, invalid } from './helpers/bad-inputs';
import { testSeed } from './helpers/seed';

const SEED = testSeed(20260501);
const [rows, stride, k] = [5, 300, 17];
const scores = makeScores('f32', rows, stride, ['normal', 'relu', 'equal'], SEED) as Float32Array;
const options = { k, rows, backend: 'cpu', tieBreak: 'small', deterministic: true, values: true } as const;

test('a non-boolean pdl is refused by topk(), topkSync() and the TopK constructor, naming pdl', async () => {
  const tally = new Refusals('pdl', SEED);
  for (const b of badBools()) {
    const bad = { ...options, pdl: b.value } as never;
    await tally.check(`topkSync pdl ${b.label}`, invalid('pdl'), () => topkSync(scores, bad));
    await tally.check(`topk pdl ${b.label}`, invalid('pdl'), () => topk(scores, bad));
    // Options are checked before CUDA is asked for, so this holds without a GPU too.
    await tally.check(`new TopK pdl ${b.label}`, invalid('pdl'), () => new TopK({ k, maxRows: rows, maxLen: stride, pdl: b.value } as never).dispose());
  }
  expect(tally.failures).toEqual([]);
});

test('the CPU backend accepts pdl and ignores it: the same bytes either way', async () => {
  const plain = topkSync(scores, options);
  for (const pdl of [true, false]) {
    const sync = topkSync(scores, { ...options, pdl });
    const async = await topk(scores, { ...options, pdl });
    for (const r of [sync, async]) {
      expect(r.backend).toBe('cpu');
      expect(r.indices).toEqual(plain.indices);
      expect(r.values).toEqual(plain.values);
    }
  }
});

test('the native config carries pdl, false unless given', () => {
  const cpuTopk = jest.spyOn(loadNative(), 'cpuTopk');
  try {
    topkSync(scores, options);
    topkSync(scores, { ...options, pdl: true });
    expect(cpuTopk.mock.calls.map(([call]) => call.config.pdl)).toEqual([false, true]);
  } finally {
    cpuTopk.mockRestore();
  }
});
