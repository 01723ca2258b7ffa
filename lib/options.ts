// Option names, defaults and their resolution: explicit argument > CLI flag (--nsa-topk-...) in
// argv > environment (NSA_TOPK_...) > default. argv and the environment are read once, when this
// module loads, and again only through reloadOptions(); the text read is parsed when an option is
// used, so a bad value fails the calls that use that option and no other. Tests drive the resolver
// with explicit { argv, env }.
import type { NativeCudaStatus } from './native';
import { ErrorCodes, NsaTopkError, invalidArgument } from './errors';
import { checkKeys, checkObject, checkOneOf, optionalBool } from './validate';

export type DType = 'f32' | 'f16' | 'bf16';
export type TieBreak = 'none' | 'small' | 'large';
export type BackendName = 'auto' | 'radix' | 'sort' | 'cpu';
export type ResolvedBackend = Exclude<BackendName, 'auto'>;
export type FuseName = 'none' | 'ragged' | 'page-table';
export type RadixPathName = 'auto' | 'block' | 'cluster' | 'batch' | 'register' | 'spread' | 'chunked';

export const DTYPES: readonly DType[] = ['f32', 'f16', 'bf16'];
export const TIE_BREAKS: readonly TieBreak[] = ['none', 'small', 'large'];
export const BACKENDS: readonly BackendName[] = ['auto', 'radix', 'sort', 'cpu'];
export const FUSES: readonly FuseName[] = ['none', 'ragged', 'page-table'];
export const RADIX_PATHS: readonly RadixPathName[] = ['auto', 'block', 'cluster', 'batch', 'register', 'spread', 'chunked'];

export function dtypeBytes(dtype: DType | 'i32'): number {
  return dtype === 'f16' || dtype === 'bf16' ? 2 : 4;
}

/** The options that may also come from a CLI flag or the environment. */
export interface GlobalOptions {
  backend: BackendName;
  deterministic: boolean;
  tieBreak: TieBreak;
  fuse: FuseName;
  graphSafe: boolean;
}

export const DEFAULTS: Readonly<GlobalOptions> = {
  backend: 'auto',
  deterministic: false,
  tieBreak: 'none',
  fuse: 'none',
  graphSafe: false,
};

export interface OptionSources {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

type Key = keyof GlobalOptions;

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];
const isBoolWord = (word: string | undefined) => word !== undefined && [...TRUE_WORDS, ...FALSE_WORDS].includes(word.trim().toLowerCase());

function parseBool(source: string, raw: string): boolean {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw invalidArgument(source, `one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')}`, raw);
}

const oneOf = <T extends string>(choices: readonly T[]) => (name: string, value: unknown): T => checkOneOf(name, value, choices);
const boolean = (name: string, value: unknown) => optionalBool(name, value, false);

/**
 * Where each global option comes from besides the explicit argument: `check` takes an explicit
 * value, `parse` the text of a flag or variable (a choice is the same check either way).
 */
const SPECS: { [K in Key]: { flag: string; env: string; check: (name: string, value: unknown) => GlobalOptions[K]; parse?: (source: string, raw: string) => GlobalOptions[K] } } = {
  backend: { flag: '--nsa-topk-backend', env: 'NSA_TOPK_BACKEND', check: (name, value) => checkBackend(value, name) },
  deterministic: { flag: '--nsa-topk-deterministic', env: 'NSA_TOPK_DETERMINISTIC', check: boolean, parse: parseBool },
  tieBreak: { flag: '--nsa-topk-tie-break', env: 'NSA_TOPK_TIE_BREAK', check: oneOf(TIE_BREAKS) },
  fuse: { flag: '--nsa-topk-fuse', env: 'NSA_TOPK_FUSE', check: oneOf(FUSES) },
  graphSafe: { flag: '--nsa-topk-graph-safe', env: 'NSA_TOPK_GRAPH_SAFE', check: boolean, parse: parseBool },
};

const KEYS = Object.keys(SPECS) as Key[];
const KEY_OF_FLAG = new Map(KEYS.map((key) => [SPECS[key].flag, key]));

/** The flag names and environment variables, for help texts and `nsa-topk info`. */
export const OPTION_SOURCES: Readonly<Record<Key, { flag: string; env: string }>> = SPECS;

/** A valid backend name, or ERR_NSA_TOPK_UNKNOWN_BACKEND listing the valid ones. */
export function checkBackend(value: unknown, name = 'backend'): BackendName {
  if (!BACKENDS.includes(value as BackendName)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new NsaTopkError(`Unknown backend ${shown} for ${name}; valid backends: ${BACKENDS.join(', ')}`, ErrorCodes.UnknownBackend);
  }
  return value as BackendName;
}

/**
 * The text one flag or variable gave an option, unparsed. `raw` is undefined for a valued flag
 * with no value after it; `next` is what followed it, for the error.
 */
interface Reading { source: string; raw?: string; next?: string }

/** One --nsa-topk-* flag in argv: its reading and the argv slots [start, end] it takes. */
interface FlagHit { key: Key; reading: Reading; start: number; end: number }

/** Every --nsa-topk-* flag in argv (`--flag value`, `--flag=value`, or a bare boolean flag). */
function scanFlags(argv: readonly string[]): FlagHit[] {
  const hits: FlagHit[] = [];
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const flag = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    const key = KEY_OF_FLAG.get(flag);
    if (key === undefined) continue;
    const start = i;
    const next = argv[i + 1];
    let raw: string | undefined;
    if (eq >= 0) {
      raw = argv[i].slice(eq + 1);
    } else if (SPECS[key].parse === parseBool) {
      // A bare boolean flag means true; a following word counts only if it is a boolean word.
      raw = isBoolWord(next) ? argv[++i] : 'true';
    } else if (next !== undefined && !next.startsWith('--')) {
      raw = argv[++i];
    }
    hits.push({ key, reading: { source: flag, raw, next }, start, end: i });
  }
  return hits;
}

type Readings = { [K in Key]?: Reading };

/** What argv (the last occurrence of a flag) and then the environment say, unparsed. */
function read(sources: OptionSources): Readings {
  const { argv = process.argv, env = process.env } = checkSources(sources);
  const readings: Readings = {};
  for (const hit of scanFlags(argv)) readings[hit.key] = hit.reading;
  for (const key of KEYS) {
    const value = env[SPECS[key].env];
    if (readings[key] === undefined && value !== undefined && value !== '') readings[key] = { source: SPECS[key].env, raw: value };
  }
  return readings;
}

/** Sources given by a caller: an object of argv (strings) and env (an object of strings). */
function checkSources(sources: unknown): OptionSources {
  const o = checkObject('sources', sources);
  checkKeys('option sources', o, ['argv', 'env']);
  if (o.argv !== undefined) {
    if (!Array.isArray(o.argv)) throw invalidArgument('sources.argv', 'an array of strings', o.argv);
    o.argv.forEach((a, i) => {
      if (typeof a !== 'string') throw invalidArgument(`sources.argv[${i}]`, 'a string', a);
    });
  }
  if (o.env !== undefined) {
    const env = checkObject('sources.env', o.env);
    for (const key of KEYS) {
      const value = env[SPECS[key].env];
      if (value !== undefined && typeof value !== 'string') throw invalidArgument(SPECS[key].env, 'a string', value);
    }
  }
  return o as OptionSources;
}

let processReadings = read({});

/**
 * Reads the --nsa-topk-* flags and NSA_TOPK_* variables again, from the process (or from
 * `sources`, whose missing members mean the process's). Without a call, what they said when
 * nsa-topk was loaded stays in force. Nothing is parsed here: a bad value throws when an option
 * that uses it is resolved without an explicit value.
 */
export function reloadOptions(sources: OptionSources = {}): void {
  processReadings = read(sources);
}

/**
 * Splits the --nsa-topk-* flags (with the values they take) out of a command line, for a program
 * that parses the rest itself (the `nsa-topk` command).
 */
export function splitOptionFlags(argv: readonly string[]): { flags: string[]; rest: string[] } {
  const taken = new Set<number>();
  for (const { start, end } of scanFlags(argv)) for (let i = start; i <= end; i++) taken.add(i);
  return { flags: argv.filter((_, i) => taken.has(i)), rest: argv.filter((_, i) => !taken.has(i)) };
}

function resolveOne<K extends Key>(key: K, given: unknown, readings: Readings): GlobalOptions[K] {
  const spec = SPECS[key];
  if (given !== undefined) return spec.check(key, given);
  const r = readings[key];
  if (r === undefined) return DEFAULTS[key];
  if (r.raw === undefined) throw invalidArgument(r.source, 'a value after the flag', r.next);
  return spec.parse ? spec.parse(r.source, r.raw) : spec.check(r.source, r.raw);
}

/**
 * Resolves the options in `keys` only: explicit (undefined counts as absent) > flag > variable >
 * default, each error naming its source (argument, flag or variable). An option not asked for is
 * never parsed. `sources` reads the given argv/env instead of the process's readings.
 */
export function pickOptions<K extends Key>(keys: readonly K[], explicit: Partial<Record<K, unknown>>, sources?: OptionSources): Pick<GlobalOptions, K> {
  const readings = sources === undefined ? processReadings : read(sources);
  const picked = {} as Pick<GlobalOptions, K>;
  for (const key of keys) picked[key] = resolveOne(key, explicit[key], readings);
  return picked;
}

/** Every global option, resolved as pickOptions does. */
export function resolveOptions(explicit: Partial<Record<Key, unknown>> = {}, sources?: OptionSources): GlobalOptions {
  checkKeys('resolveOptions options', checkObject('explicit options', explicit), KEYS);
  return pickOptions(KEYS, explicit, sources);
}

/**
 * The backend that runs: `auto` -> `radix` when CUDA is usable, else `cpu`; `radix`/`sort`
 * without usable CUDA -> ERR_NSA_TOPK_CUDA_UNAVAILABLE with the reason. `status` is asked lazily
 * so an explicit `cpu` never touches CUDA.
 */
export function chooseBackend(name: BackendName, status: () => NativeCudaStatus): ResolvedBackend {
  if (name === 'cpu') return 'cpu';
  const s = status();
  if (name === 'auto') return s.usable ? 'radix' : 'cpu';
  if (!s.usable) throw cudaUnavailable(`backend ${name}`, s);
  return name;
}

export function cudaUnavailable(what: string, s: NativeCudaStatus): NsaTopkError {
  const reason = s.reason ?? (s.compiled ? 'no usable CUDA device' : 'nsa-topk was built without CUDA');
  return new NsaTopkError(`CUDA is not usable for ${what}: ${reason}`, ErrorCodes.CudaUnavailable);
}
