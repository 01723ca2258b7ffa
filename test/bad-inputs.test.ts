// Bad inputs, as a property test (the tables are in helpers/bad-inputs.ts): every argument of
// topk() and topkSync() on the CPU backend, and of resolveOptions() and reloadOptions(), gets each
// bad value of its kind; the cases below the property tests are the bugs it found, now fixed. The
// device-buffer API's cases,
// which need a GPU, are in gpu/bad-inputs.test.ts.
import { BACKENDS, FUSES, OPTION_SOURCES, TIE_BREAKS, reloadOptions, resolveOptions, topk, topkSync } from '../lib';
import type { GlobalOptions } from '../lib';
import { ErrorCodes } from '../lib/errors';
import { loadNative } from '../lib/loader';
import { Rng, rng } from '../lib/reference';
import {
  Bad, Expected, Refusals, badBools, badChoices, hostProperty, invalid, unknownBackend, unknownOption,
} from './helpers/bad-inputs';
import { testSeed } from './helpers/seed';

const SEED = testSeed(20260412);

test('topk() and topkSync() on the CPU refuse every bad argument, start nothing, then answer right', async () => {
  const tally = new Refusals('topk/topkSync, backend cpu', SEED);
  await hostProperty(tally, 'cpu', rng(SEED), loadNative());
  console.log(tally.summary());
  expect(tally.failures).toEqual([]);
  // The tables cross about 25 arguments with 20 to 40 values each, twice (topkSync and topk).
  expect(tally.tried).toBeGreaterThan(1000);
});

describe('resolveOptions() and reloadOptions()', () => {
  const none = { argv: [], env: {} };
  type Key = keyof GlobalOptions;
  const KEYS = Object.keys(OPTION_SOURCES) as Key[];
  const explicitBad = (key: Key, rand: Rng): Bad[] => {
    if (key === 'backend') return badChoices(rand, BACKENDS, unknownBackend('backend'));
    if (key === 'tieBreak') return badChoices(rand, TIE_BREAKS);
    if (key === 'fuse') return badChoices(rand, FUSES);
    return badBools();
  };
  const isBool = (key: Key) => key === 'deterministic' || key === 'graphSafe';
  /** Texts a flag or variable may hold that mean no value of the option ('' is "unset" in the environment). */
  const badTexts = (key: Key, rand: Rng): string[] => {
    const texts = isBool(key)
      ? ['maybe', '2', 'tru', 'yes please', 'on off', '-1']
      : explicitBad(key, rand).map((b) => b.value).filter((v): v is string => typeof v === 'string');
    return texts.filter((t) => t.trim() !== '');
  };
  const refusedAs = (key: Key, source: string): Expected => (key === 'backend' ? unknownBackend(source) : invalid(source));

  afterEach(() => reloadOptions()); // back to what the process's argv and environment say

  test('bad explicit values, flags and variables are refused, naming where they came from', async () => {
    const rand = rng(SEED + 1);
    const tally = new Refusals('resolveOptions/reloadOptions', SEED);
    for (const key of KEYS) {
      for (const b of explicitBad(key, rand)) {
        await tally.check(`resolveOptions({ ${key}: ${b.label} })`, b.expect ?? invalid(key), () => resolveOptions({ [key]: b.value }, none));
      }
      const { flag, env } = OPTION_SOURCES[key];
      for (const text of badTexts(key, rand)) {
        const shown = JSON.stringify(text);
        await tally.check(`${flag}=${shown}`, refusedAs(key, flag), () => resolveOptions({}, { argv: [`${flag}=${text}`], env: {} }));
        await tally.check(`${env}=${shown}`, refusedAs(key, env), () => resolveOptions({}, { argv: [], env: { [env]: text } }));
        // reloadOptions() only reads; the first call that uses the option refuses the text. (A
        // boolean flag takes only a boolean word after a space: its bad texts go after '='.)
        reloadOptions({ argv: isBool(key) ? [`${flag}=${text}`] : ['node', 'app', flag, text, '--other'], env: {} });
        await tally.check(`reloadOptions with ${flag} ${shown}, then resolveOptions()`, refusedAs(key, flag), () => resolveOptions());
        reloadOptions();
      }
      if (key === 'backend' || key === 'tieBreak' || key === 'fuse') {
        // A valued flag with nothing after it (a boolean flag alone means true).
        await tally.check(`${flag} last`, invalid(flag), () => resolveOptions({}, { argv: ['app', flag], env: {} }));
        await tally.check(`${flag} before another flag`, invalid(flag), () => resolveOptions({}, { argv: [flag, '--verbose'], env: {} }));
      }
    }
    console.log(tally.summary());
    expect(tally.failures).toEqual([]);
    expect(tally.tried).toBeGreaterThan(150);
  });

  // Library bugs: resolveOptions() and reloadOptions() check the values inside their arguments but
  // not the arguments themselves. Each test lists what should be refused, and fails (as marked)
  // while any of it is not.
  async function refusesAll(cases: [string, Expected, () => unknown][]): Promise<void> {
    const tally = new Refusals('resolveOptions/reloadOptions', SEED);
    for (const [what, expected, call] of cases) await tally.check(what, expected, call);
    expect(tally.failures).toEqual([]);
  }
  const explicitArg = invalid(/explicit|options/);
  const sourcesArg = invalid(/sources(\.argv|\.env)?|argv|env/);

  test('null for explicit or sources is refused with an NsaTopkError', () => refusesAll([
    ['resolveOptions(null)', explicitArg, () => resolveOptions(null as never)],
    ['resolveOptions({}, null)', sourcesArg, () => resolveOptions({}, null as never)],
    ['resolveOptions({}, { argv: null })', sourcesArg, () => resolveOptions({}, { argv: null as never })],
    ['resolveOptions({}, { env: null })', sourcesArg, () => resolveOptions({}, { env: null as never })],
    ['reloadOptions(null)', sourcesArg, () => reloadOptions(null as never)],
  ]));

  test('explicit options or sources that are not objects are refused', () => refusesAll([
    ['resolveOptions(5)', explicitArg, () => resolveOptions(5 as never)],
    ["resolveOptions('cpu')", explicitArg, () => resolveOptions('cpu' as never)],
    ["resolveOptions(['cpu'])", explicitArg, () => resolveOptions(['cpu'] as never)],
    ['resolveOptions({}, 5)', sourcesArg, () => resolveOptions({}, 5 as never)],
    ["resolveOptions({}, { argv: '--nsa-topk-backend=tpu' })", sourcesArg, () => resolveOptions({}, { argv: '--nsa-topk-backend=tpu' as never })],
    ['resolveOptions({}, { env: 5 })', sourcesArg, () => resolveOptions({}, { env: 5 as never })],
    ["reloadOptions('--nsa-topk-backend=tpu')", sourcesArg, () => reloadOptions('--nsa-topk-backend=tpu' as never)],
  ]));

  test('unknown keys in explicit options and sources are refused', () => refusesAll([
    ["resolveOptions({ bakend: 'cpu' })", unknownOption('bakend'), () => resolveOptions({ bakend: 'cpu' } as never, none)],
    ['resolveOptions({ k: 4 })', unknownOption('k'), () => resolveOptions({ k: 4 } as never, none)],
    ['resolveOptions({}, { envv: {} })', unknownOption('envv'), () => resolveOptions({}, { argv: [], envv: {} } as never)],
    ['reloadOptions({ args: [] })', unknownOption('args'), () => reloadOptions({ args: [] } as never)],
  ]));

  test('argv entries and variables that are not strings are refused', () => refusesAll([
    ['argv [5]', sourcesArg, () => resolveOptions({}, { argv: [5] as never, env: {} })],
    ['argv [null]', sourcesArg, () => resolveOptions({}, { argv: [null] as never, env: {} })],
    ['NSA_TOPK_DETERMINISTIC: 1', invalid('NSA_TOPK_DETERMINISTIC'), () => resolveOptions({}, { argv: [], env: { NSA_TOPK_DETERMINISTIC: 1 as never } })],
    ['NSA_TOPK_GRAPH_SAFE: true', invalid('NSA_TOPK_GRAPH_SAFE'), () => resolveOptions({}, { argv: [], env: { NSA_TOPK_GRAPH_SAFE: true as never } })],
  ]));
});

describe('topk() and topkSync() argument checks the property test once missed', () => {
  const scores = new Float32Array(40);
  async function refusesBoth(options: Record<string, unknown>, expected: Expected): Promise<void> {
    const tally = new Refusals('topk/topkSync', SEED);
    const call = { backend: 'cpu', ...options };
    await tally.check('topkSync', expected, () => topkSync(scores, call as never));
    await tally.check('topk', expected, () => topk(scores, call as never));
    expect(tally.failures).toEqual([]);
  }

  // rows * k output slots beyond what a typed array holds once failed with a RangeError.
  test('a k whose [rows, k] output no typed array can hold is refused as an argument', () =>
    refusesBoth({ k: 2 ** 31 - 1, rows: 4 }, { code: ErrorCodes.InvalidArgument, names: /for (k|rows) but received/ }));

  // Every argument is checked whatever the fuse mode (docs/api.md), pageTable and pageTableStride
  // too, though only 'page-table' uses them.
  test('pageTable is checked whatever the fuse mode', () => refusesBoth({ k: 1, rows: 4, pageTable: 'not a table' }, invalid('pageTable')));
  test('pageTableStride is checked whatever the fuse mode', () => refusesBoth({ k: 1, rows: 4, fuse: 'none', pageTableStride: -5 }, invalid('pageTableStride')));
});
