// Option names, defaults and their resolution: explicit argument > CLI flag (--nsa-topk-...) in
// argv > environment (NSA_TOPK_...) > default. The resolver is pure over { argv, env } so tests
// can drive it; callers default those to the process's.
import type { NativeCudaStatus } from './native';
import { ErrorCodes, NsaTopkError, invalidArgument } from './errors';
import { checkOneOf, optionalBool } from './validate';

export type DType = 'f32' | 'f16' | 'bf16';
export type TieBreak = 'none' | 'small' | 'large';
export type BackendName = 'auto' | 'radix' | 'sort' | 'cpu';
export type ResolvedBackend = Exclude<BackendName, 'auto'>;
export type FuseName = 'none' | 'ragged' | 'page-table';
export type RadixPathName = 'auto' | 'block' | 'cluster' | 'batch';

export const DTYPES: readonly DType[] = ['f32', 'f16', 'bf16'];
export const TIE_BREAKS: readonly TieBreak[] = ['none', 'small', 'large'];
export const BACKENDS: readonly BackendName[] = ['auto', 'radix', 'sort', 'cpu'];
export const FUSES: readonly FuseName[] = ['none', 'ragged', 'page-table'];
export const RADIX_PATHS: readonly RadixPathName[] = ['auto', 'block', 'cluster', 'batch'];

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

type Parse<T> = (source: string, raw: string) => T;

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

const parseBool: Parse<boolean> = (source, raw) => {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw invalidArgument(source, `one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')}`, raw);
};

const parseChoice = <T extends string>(choices: readonly T[]): Parse<T> => (source, raw) => checkOneOf(source, raw, choices);

const parseBackend: Parse<BackendName> = (source, raw) => checkBackend(raw, source);

/** Where each global option comes from besides the explicit argument. */
const SPECS: { [K in keyof GlobalOptions]: { flag: string; env: string; parse: Parse<GlobalOptions[K]>; isBool: boolean } } = {
  backend: { flag: '--nsa-topk-backend', env: 'NSA_TOPK_BACKEND', parse: parseBackend, isBool: false },
  deterministic: { flag: '--nsa-topk-deterministic', env: 'NSA_TOPK_DETERMINISTIC', parse: parseBool, isBool: true },
  tieBreak: { flag: '--nsa-topk-tie-break', env: 'NSA_TOPK_TIE_BREAK', parse: parseChoice(TIE_BREAKS), isBool: false },
  fuse: { flag: '--nsa-topk-fuse', env: 'NSA_TOPK_FUSE', parse: parseChoice(FUSES), isBool: false },
  graphSafe: { flag: '--nsa-topk-graph-safe', env: 'NSA_TOPK_GRAPH_SAFE', parse: parseBool, isBool: true },
};

/** The flag names and environment variables, for help texts and `nsa-topk info`. */
export const OPTION_SOURCES: Readonly<Record<keyof GlobalOptions, { flag: string; env: string }>> = SPECS;

/** A valid backend name, or ERR_NSA_TOPK_UNKNOWN_BACKEND listing the valid ones. */
export function checkBackend(value: unknown, name = 'backend'): BackendName {
  if (!BACKENDS.includes(value as BackendName)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new NsaTopkError(`Unknown backend ${shown} for ${name}; valid backends: ${BACKENDS.join(', ')}`, ErrorCodes.UnknownBackend);
  }
  return value as BackendName;
}

/** The last occurrence of `flag` in argv (`--flag value`, `--flag=value`, or a bare boolean flag). */
function flagValue(argv: readonly string[], flag: string, isBool: boolean): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith(`${flag}=`)) {
      found = arg.slice(flag.length + 1);
    } else if (arg === flag) {
      const next = argv[i + 1];
      if (isBool) {
        // A bare boolean flag means true; a following word counts only if it is a boolean word.
        const word = next?.toLowerCase();
        const isWord = word !== undefined && (TRUE_WORDS.includes(word) || FALSE_WORDS.includes(word));
        found = isWord ? next : 'true';
        if (isWord) i++;
      } else {
        if (next === undefined || next.startsWith('--')) throw invalidArgument(flag, 'a value after the flag', next);
        found = next;
        i++;
      }
    }
  }
  return found;
}

/**
 * Resolves the global options: explicit (undefined counts as absent) > argv flag > env > default.
 * Explicit values are checked too, each error naming its source (argument, flag or variable).
 */
export function resolveOptions(explicit: Partial<Record<keyof GlobalOptions, unknown>> = {}, sources: OptionSources = {}): GlobalOptions {
  const argv = sources.argv ?? process.argv;
  const env = sources.env ?? process.env;
  const resolve = <K extends keyof GlobalOptions>(key: K): GlobalOptions[K] => {
    const spec = SPECS[key];
    const given = explicit[key];
    if (given !== undefined) {
      if (spec.isBool) return optionalBool(key, given, false) as GlobalOptions[K];
      if (key === 'backend') return checkBackend(given) as GlobalOptions[K];
      return checkOneOf(key, given, key === 'tieBreak' ? TIE_BREAKS : FUSES) as GlobalOptions[K];
    }
    const fromFlag = flagValue(argv, spec.flag, spec.isBool);
    if (fromFlag !== undefined) return spec.parse(spec.flag, fromFlag);
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return spec.parse(spec.env, fromEnv);
    return DEFAULTS[key];
  };
  return {
    backend: resolve('backend'),
    deterministic: resolve('deterministic'),
    tieBreak: resolve('tieBreak'),
    fuse: resolve('fuse'),
    graphSafe: resolve('graphSafe'),
  };
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
