// Bad inputs as a property test. Each kind of argument (an integer range, a flag, a choice, a
// per-row int array, an options object, ...) has a table of bad values: wrong types, wrong sizes,
// NaN, negative, fractional and huge numbers, strings, objects, missing values. Every argument of
// a function is crossed with its kind's table, and each bad value goes into a fresh seeded random
// valid call. A refusal must be an NsaTopkError with the stable code and a message naming the
// argument; the suites also check that nothing ran and that the same call without the bad value
// returns the right answer. NSA_TOPK_TEST_SEED=<seed> replays a run (the seed is in the summary).
import { BACKENDS, DTYPES, ErrorCodes, FUSES, NsaTopkError, TIE_BREAKS, topk, topkSync } from '../../lib';
import type { ErrorCode, FuseName, ScoresArray, TopKOptions } from '../../lib';
import type { NativeAddon } from '../../lib/native';
import { Rng, checkTopk, fuzzCase, intIn, pick } from '../../lib/reference';

const INT32_MAX = 2 ** 31 - 1;

/** An integer in [0, n). */
const randomInt = (rand: Rng, n: number): number => intIn(rand, 0, n - 1);

// ---------------------------------------------------------------------------------------------
// What a refusal must look like

export interface Expected { code: ErrorCode; names: RegExp }

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** ERR_NSA_TOPK_INVALID_ARGUMENT, "Expected ... for <name> but received ..." (or <name>[i]). */
export const invalid = (name: string | RegExp): Expected => ({
  code: ErrorCodes.InvalidArgument,
  names: new RegExp(`for ${typeof name === 'string' ? escape(name) : name.source}(\\[\\d+\\])? but received`),
});
export const unknownOption = (key: string): Expected => ({
  code: ErrorCodes.UnknownOption,
  names: new RegExp(`^Unknown option ${escape(JSON.stringify(key))} in `),
});
/** ERR_NSA_TOPK_UNKNOWN_BACKEND naming its source: the argument, a flag or a variable. */
export const unknownBackend = (source: string): Expected => ({
  code: ErrorCodes.UnknownBackend,
  names: new RegExp(` for ${escape(source)}; valid backends`),
});
export const disposed = (name: string): Expected => ({
  code: ErrorCodes.Disposed,
  names: new RegExp(`${escape(name)} was disposed`),
});

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : `the value ${String(error)}`;
}

/** What is wrong with `error` as the refusal `expected` (undefined: nothing). */
export function problemWith(error: unknown, expected: Expected): string | undefined {
  if (!(error instanceof NsaTopkError)) return `threw ${describeError(error)}, not an NsaTopkError`;
  if (error.code !== expected.code) return `${error.code} instead of ${expected.code}: ${error.message}`;
  if (!expected.names.test(error.message)) return `the message does not name the argument (${expected.names}): ${error.message}`;
  return undefined;
}

/** Counts the bad inputs tried and collects every wrong answer, for one expect() at the end. */
export class Refusals {
  tried = 0;
  readonly failures: string[] = [];

  constructor(readonly suite: string, readonly seed: number) {}

  /** Runs `call`, which must throw or reject as `expected`. */
  async check(what: string, expected: Expected, call: () => unknown): Promise<void> {
    this.tried++;
    let outcome: { error: unknown } | undefined;
    try {
      await call();
    } catch (error) {
      outcome = { error };
    }
    const problem = outcome === undefined ? 'did not throw' : problemWith(outcome.error, expected);
    if (problem !== undefined) this.fail(what, problem);
  }

  fail(what: string, problem: string): void {
    this.failures.push(`${what}: ${problem}`);
  }

  summary(): string {
    return `${this.suite}: ${this.tried} bad inputs tried, ${this.failures.length} answered wrongly `
      + `(seed ${this.seed}; NSA_TOPK_TEST_SEED=${this.seed} replays it)`;
  }
}

// ---------------------------------------------------------------------------------------------
// Tables of bad values, by kind of argument

export interface Bad {
  label: string;
  value: unknown;
  /** Default: ERR_NSA_TOPK_INVALID_ARGUMENT naming the argument. */
  expect?: Expected;
}

export const bad = (label: string, value: unknown, expect?: Expected): Bad => ({ label, value, expect });
const undefinedIf = (required: boolean): Bad[] => (required ? [bad('undefined', undefined)] : []);

/** Values of none of the types any argument takes (no number, boolean, string, array, plain object). */
export function otherTypes(): Bad[] {
  return [
    bad('null', null), bad('a symbol', Symbol('nsa')), bad('a bigint', 4n), bad('a function', () => 4),
    bad('a boxed number', new Number(4)), bad('a Date', new Date(0)), bad('a Map', new Map()),
  ];
}

/** An integer argument in [min, max]. */
export function badInts(rand: Rng, min: number, max: number, required: boolean): Bad[] {
  return [
    ...undefinedIf(required),
    bad(`${min - 1}`, min - 1),
    bad('a random integer below the range', min - 1 - randomInt(rand, 2 ** 31)),
    bad(`${max + 1}`, max + 1),
    bad('a random integer above the range', max + 1 + randomInt(rand, 2 ** 40)),
    bad('a random fraction', min + 0.5 + randomInt(rand, 1000)),
    bad('-0.5', -0.5), bad('NaN', NaN), bad('Infinity', Infinity), bad('-Infinity', -Infinity),
    bad('1e300', 1e300), bad('-Number.MAX_VALUE', -Number.MAX_VALUE), bad('Number.EPSILON', Number.EPSILON),
    bad('a numeric string', String(min + 1)), bad('an empty string', ''), bad('true', true), bad('false', false),
    bad('an array of one integer', [min + 1]), bad('an Int32Array of one integer', Int32Array.of(min + 1)),
    bad('an object', { valueOf: () => min + 1 }),
    ...otherTypes(),
  ];
}

export function badBools(): Bad[] {
  return [
    bad('0', 0), bad('1', 1), bad("'true'", 'true'), bad("'false'", 'false'), bad("'yes'", 'yes'), bad("''", ''),
    bad('NaN', NaN), bad('[true]', [true]), bad('a boxed true', new Boolean(true)), bad('an object', {}),
    ...otherTypes(),
  ];
}

function randomWord(rand: Rng, not: readonly string[]): string {
  for (;;) {
    const word = Array.from({ length: 1 + randomInt(rand, 8) }, () => String.fromCharCode(97 + randomInt(rand, 26))).join('');
    if (!not.includes(word)) return word;
  }
}

/** One of `choices` (all lower case); `expect` overrides the default refusal for every value. */
export function badChoices(rand: Rng, choices: readonly string[], expect?: Expected): Bad[] {
  const first = choices[0];
  const list = [
    bad("''", ''), bad(`'${first.toUpperCase()}'`, first.toUpperCase()), bad(`' ${first}'`, ` ${first}`),
    bad(`'${first}\\n'`, `${first}\n`), bad('a random word', randomWord(rand, choices)),
    bad('the choices joined', choices.join(',')), bad('0', 0), bad('1', 1), bad('true', true), bad('NaN', NaN),
    bad(`['${first}']`, [first]), bad('a boxed string', new String(first)), bad('an object', {}),
    ...otherTypes(),
  ];
  return expect ? list.map((b) => ({ ...b, expect })) : list;
}

/** Bad elements at a seeded position of an otherwise valid int array of `length` (>= 1). */
function badElements(rand: Rng, length: number): Bad[] {
  const at = randomInt(rand, length);
  const elements: [string, unknown][] = [
    ['NaN', NaN], ['1.5', 1.5], ["'1'", '1'], ['null', null], ['undefined', undefined], ['2**31', 2 ** 31],
    ['-(2**31) - 1', -(2 ** 31) - 1], ['Infinity', Infinity], ['1n', 1n], ['true', true], ['[1]', [1]],
  ];
  return elements.map(([label, x]) => {
    const array: unknown[] = new Array(length).fill(0);
    array[at] = x;
    return bad(`${label} at [${at}]`, array);
  });
}

/** An int array of any length (an Int32Array or an array of int32 numbers). */
export function badAnyIntArrays(rand: Rng, length: number): Bad[] {
  return [
    ...[Float32Array, Float64Array, Uint32Array, Int16Array, Uint8Array].map((T) => bad(`a ${T.name}`, new T(length))),
    bad('a BigInt64Array', new BigInt64Array(length)), bad('a DataView', new DataView(new ArrayBuffer(4 * length))),
    ...badElements(rand, length),
    bad('an array with holes', new Array(length)), bad('a string', 'x'.repeat(length)),
    bad('an array-like object', { length }), bad('a Set', new Set([0])), bad('a number', length), bad('true', true),
    ...otherTypes(),
  ];
}

/** A per-row int array: exactly `length` entries. */
export function badIntArrays(rand: Rng, length: number, required = false): Bad[] {
  return [
    ...undefinedIf(required),
    bad(`an array of ${length + 1}`, new Array(length + 1).fill(0)),
    bad(`an array of ${length - 1}`, new Array(length - 1).fill(0)),
    bad(`an Int32Array of ${length + 1}`, new Int32Array(length + 1)),
    bad('an empty Int32Array', new Int32Array(0)),
    ...badAnyIntArrays(rand, length),
  ];
}

/** An options object. */
export function badObjects(required: boolean): Bad[] {
  return [
    ...undefinedIf(required),
    bad('null', null), bad('a number', 5), bad('a string', 'k=4'), bad('true', true), bad('an empty array', []),
    bad('an array', [1, 2]), bad('a function', () => ({})), bad('a bigint', 4n), bad('a symbol', Symbol('nsa')),
  ];
}

/** Keys an options object does not have: typos of the known ones, and a few others. */
export function unknownKeys(known: readonly string[], others: readonly string[] = []): Bad[] {
  const keys = new Set([
    known[0].toUpperCase(), `${known[Math.min(1, known.length - 1)]}s`, `${known[known.length - 1]}_`, 'tieBrake', 'length',
    '', '__proto__', 'constructor', 'toString', ...others,
  ]);
  return [...keys].filter((key) => !known.includes(key)).map((key) => bad(`unknown key ${JSON.stringify(key)}`, key, unknownOption(key)));
}

/** Sets `key` as an own enumerable property, as an options literal would ('__proto__' included). */
export function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
}

// ---------------------------------------------------------------------------------------------
// Native work: counted around the bad calls, which must start none

/**
 * Counts what the addon is asked to do from now until restore(): top-k calls on host arrays, CPU
 * and CUDA. The addon's exports are plain properties: wrapped here and put back by restore().
 */
export function countNativeWork(addon: NativeAddon): { count(): number; restore(): void } {
  let calls = 0;
  const { cpuTopk, cpuTopkAsync, cudaTopk, cudaTopkAsync } = addon;
  addon.cpuTopk = (call) => { calls++; return cpuTopk(call); };
  addon.cpuTopkAsync = (call) => { calls++; return cpuTopkAsync(call); };
  if (cudaTopk && cudaTopkAsync) {
    addon.cudaTopk = (call, backend, device) => { calls++; return cudaTopk(call, backend, device); };
    addon.cudaTopkAsync = (call, backend, device) => { calls++; return cudaTopkAsync(call, backend, device); };
  }
  return {
    count: () => calls,
    restore: () => Object.assign(addon, { cpuTopk, cpuTopkAsync, cudaTopk, cudaTopkAsync }),
  };
}

// ---------------------------------------------------------------------------------------------
// topk() and topkSync(): every argument, positional and optional

export interface HostCall { scores: unknown; options: Record<string, unknown> }

/** A bad value and how it goes into a call (default: as the argument's own value). */
type HostBad = Bad & { apply?: (call: HostCall) => void };

interface HostArg {
  /** The fuse mode whose calls use the argument; any when absent. */
  fuse?: FuseName;
  bad: (call: HostCall, rand: Rng) => HostBad[];
}

const rowsOf = (c: HostCall) => c.options.rows as number;
const strideOf = (c: HostCall) => (c.scores as ScoresArray).length / rowsOf(c);

function badScores(c: HostCall): HostBad[] {
  const scores = c.scores as ScoresArray;
  const n = scores.length;
  const Same = scores.constructor as typeof Float32Array | typeof Uint16Array;
  const Other = scores instanceof Float32Array ? Uint16Array : Float32Array;
  // A wrong length must stay wrong: with stride explicit, any length but rows * stride is.
  const sized = (label: string, value: ScoresArray): HostBad => ({
    label, value, apply: (call) => { call.scores = value; call.options.stride = strideOf(c); },
  });
  const detached = new Same(n);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  return [
    bad('undefined', undefined), bad('a number', n), bad('a string', 'scores'), bad('a number array', Array.from(scores)),
    bad('an object', {}), ...otherTypes(),
    ...[Float64Array, Int32Array, Uint32Array, Int16Array, Uint8Array, Int8Array].map((T) => bad(`a ${T.name}`, new T(n))),
    bad('a BigInt64Array', new BigInt64Array(n)), bad('a DataView', new DataView(new ArrayBuffer(4 * n))),
    bad(`a ${Other.name} (the other element type)`, new Other(n), invalid('dtype')),
    sized('one element more than rows * stride', new Same(n + 1)),
    sized('one element fewer than rows * stride', new Same(n - 1)),
    sized('an empty array', new Same(0)),
    sized('a detached array', detached),
  ];
}

function badDtypes(c: HostCall, rand: Rng): HostBad[] {
  const wrongForArray: HostBad[] = c.scores instanceof Float32Array
    ? [bad("'f16' for a Float32Array", 'f16'), bad("'bf16' for a Float32Array", 'bf16')]
    : [bad("'f32' for a Uint16Array", 'f32'), { label: 'none for a Uint16Array', value: undefined, apply: (call) => { delete call.options.dtype; } }];
  return [...badChoices(rand, DTYPES), ...wrongForArray];
}

/**
 * Every option of topk()/topkSync(): keyed by TopKOptions, so an option added to the type and not
 * here fails to compile.
 */
const HOST_OPTIONS: { [K in keyof Required<TopKOptions>]: HostArg } = {
  k: { bad: (_c, r) => badInts(r, 1, INT32_MAX, true) },
  rows: {
    bad: (c, r) => [
      ...badInts(r, 1, INT32_MAX, true),
      { label: 'rows + 1 (scores too short)', value: rowsOf(c) + 1, expect: invalid('scores'), apply: (call) => Object.assign(call.options, { rows: rowsOf(c) + 1, stride: strideOf(c) }) },
    ],
  },
  stride: { bad: (c, r) => [...badInts(r, 1, INT32_MAX, false), bad('stride + 1 (scores too short)', strideOf(c) + 1, invalid('scores'))] },
  dtype: { bad: (c, r) => badDtypes(c, r) },
  lengths: { bad: (c, r) => badIntArrays(r, rowsOf(c)) },
  rowStarts: { bad: (c, r) => badIntArrays(r, rowsOf(c)) },
  tieBreak: { bad: (_c, r) => badChoices(r, TIE_BREAKS) },
  deterministic: { bad: () => badBools() },
  sorted: { bad: () => badBools() },
  values: { bad: () => badBools() },
  backend: { bad: (_c, r) => badChoices(r, BACKENDS, unknownBackend('backend')) },
  fuse: {
    bad: (_c, r) => [
      ...badChoices(r, FUSES),
      // A mode without the operand it needs: the missing operand is named.
      { label: "'ragged' without offsets", value: 'ragged', expect: invalid('offsets'), apply: (call) => { call.options.fuse = 'ragged'; delete call.options.offsets; } },
      { label: "'page-table' without pageTable", value: 'page-table', expect: invalid('pageTable'), apply: (call) => { call.options.fuse = 'page-table'; delete call.options.pageTable; } },
    ],
  },
  offsets: { fuse: 'ragged', bad: (c, r) => badIntArrays(r, rowsOf(c), true) },
  pageTable: { fuse: 'page-table', bad: (c, r) => [bad('undefined', undefined), bad('an empty array', []), ...badAnyIntArrays(r, rowsOf(c))] },
  pageTableStride: {
    fuse: 'page-table',
    bad: (c, r) => [
      ...badInts(r, 1, INT32_MAX, false),
      bad('longer than the table', (c.options.pageTable as ArrayLike<number>).length + 1, invalid('pageTable')),
      // Without it the table's rows are the call's rows, which a row-to-batch map makes unknown.
      {
        label: 'undefined beside a rowToBatch', value: undefined,
        apply: (call) => { delete call.options.pageTableStride; call.options.rowToBatch = new Int32Array(rowsOf(c)); },
      },
    ],
  },
  pageSize: { fuse: 'page-table', bad: (_c, r) => badInts(r, 1, INT32_MAX, false) },
  rowToBatch: { fuse: 'page-table', bad: (c, r) => badIntArrays(r, rowsOf(c)) },
  pageTableStarts: { fuse: 'page-table', bad: (c, r) => badIntArrays(r, rowsOf(c)) },
  threads: { bad: (_c, r) => badInts(r, 1, 4096, false) },
  device: { bad: (_c, r) => badInts(r, 0, Number.MAX_SAFE_INTEGER, false) },
  pdl: { bad: () => badBools() },
};

/** The positional arguments, the options, and keys topk() does not know (TopK's among them). */
const HOST_ARGS: Record<string, HostArg> = {
  scores: { bad: (c) => badScores(c) },
  options: { bad: () => badObjects(true) },
  ...HOST_OPTIONS,
  'unknown option': { bad: () => unknownKeys(Object.keys(HOST_OPTIONS), ['graphSafe', 'path', 'maxRows', 'stream', 'out']) },
};

/** The shapes of the valid calls the bad values go into: small, so that a case costs little. */
const CALL_LIMITS = { maxRows: 4, maxLen: 48, maxK: 64 };

/**
 * A seeded random valid call of the given fuse mode: a fuzz case (every option and transform
 * drawn), with a backend, sometimes threads, and the spellings the API allows for the rest
 * (number arrays for Int32Arrays, f32 and stride implied).
 */
export function hostCall(rand: Rng, fuse: FuseName, backend: string): HostCall {
  let c = fuzzCase(randomInt(rand, 2 ** 30), 0, CALL_LIMITS);
  while (c.options.fuse !== fuse) c = fuzzCase(randomInt(rand, 2 ** 30), 0, CALL_LIMITS);
  const options: Record<string, unknown> = { ...c.options, backend };
  for (const key of ['lengths', 'rowStarts', 'offsets', 'pageTable'] as const) {
    if (options[key] instanceof Int32Array && rand() < 0.5) options[key] = Array.from(options[key] as Int32Array);
  }
  if (options.dtype === 'f32' && rand() < 0.5) delete options.dtype;
  if (rand() < 0.3) options.threads = 1 + randomInt(rand, 2);
  if (rand() < 0.3) options.pdl = rand() < 0.5;
  return { scores: c.scores, options };
}

/** A copy of a call that can take a bad value without changing the original. */
const copyCall = (c: HostCall): HostCall => ({ scores: c.scores, options: { ...c.options } });

function put(call: HostCall, arg: string, b: HostBad): void {
  if (b.apply) b.apply(call);
  else if (arg === 'scores') call.scores = b.value;
  else if (arg === 'options') call.options = b.value as Record<string, unknown>;
  else if (arg === 'unknown option') setKey(call.options, b.value as string, 1);
  else call.options[arg] = b.value;
}

/** What the contract checker says of a result (empty: right). */
function wrongAnswer(result: { indices: Int32Array; values?: ScoresArray }, c: HostCall): string[] {
  return checkTopk(result, c.scores as ScoresArray, c.options as unknown as TopKOptions);
}

/**
 * The host-array property for one backend: every argument of topk() and topkSync() crossed with its
 * bad values, each in a fresh random call. Both entry points must refuse it without starting native
 * work, and the call without the bad value must then return the right answer, through topkSync and
 * topk in turn.
 */
export async function hostProperty(tally: Refusals, backend: string, rand: Rng, addon: NativeAddon): Promise<void> {
  let good = 0;
  for (const [arg, spec] of Object.entries(HOST_ARGS)) {
    const size = spec.bad(hostCall(rand, spec.fuse ?? 'none', backend), rand).length;
    for (let i = 0; i < size; i++) {
      const base = hostCall(rand, spec.fuse ?? pick(rand, FUSES), backend);
      const b = spec.bad(base, rand)[i];
      const call = copyCall(base);
      put(call, arg, b);
      const what = `${backend}: ${arg} = ${b.label}`;
      const expected = b.expect ?? invalid(arg);
      const work = countNativeWork(addon);
      try {
        await tally.check(`topkSync ${what}`, expected, () => topkSync(call.scores as ScoresArray, call.options as never));
        await tally.check(`topk ${what}`, expected, () => topk(call.scores as ScoresArray, call.options as never));
        if (work.count() > 0) tally.fail(what, `started native work ${work.count()} time(s) before refusing`);
      } finally {
        work.restore();
      }
      const result = good++ % 2 ? await topk(base.scores as ScoresArray, base.options as never) : topkSync(base.scores as ScoresArray, base.options as never);
      const wrong = wrongAnswer(result, base);
      if (wrong.length > 0) tally.fail(`${what}, then the call without it`, wrong.join('; '));
    }
  }
}
