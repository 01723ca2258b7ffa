// Option resolution: explicit > CLI flag (--nsa-topk-...) > environment (NSA_TOPK_...) > default,
// driven with pure argv/env objects.
import { NsaTopkError } from '../lib';
import { DEFAULTS, GlobalOptions, OPTION_SOURCES, chooseBackend, resolveOptions } from '../lib/options';

const none = { argv: [] as string[], env: {} };

/**
 * For each option: explicit, flag and env values where each layer differs from the one below it
 * (booleans have two values, so "env beats default" for them is covered under boolean parsing).
 */
const LAYERS: { [K in keyof GlobalOptions]: [GlobalOptions[K], string, string, GlobalOptions[K], GlobalOptions[K]] } = {
  // [explicit, flag text, env text, flag parsed, env parsed]
  backend: ['cpu', 'sort', 'radix', 'sort', 'radix'],
  deterministic: [false, 'true', '0', true, false],
  tieBreak: ['large', 'small', 'large', 'small', 'large'],
  fuse: ['ragged', 'page-table', 'ragged', 'page-table', 'ragged'],
  graphSafe: [false, 'yes', 'off', true, false],
};

function thrown(fn: () => unknown): NsaTopkError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NsaTopkError);
    return err as NsaTopkError;
  }
  throw new Error('expected the call to throw');
}

test('defaults with no inputs', () => {
  expect(resolveOptions({}, none)).toEqual({ backend: 'auto', deterministic: false, tieBreak: 'none', fuse: 'none', graphSafe: false });
  expect(DEFAULTS).toEqual(resolveOptions({}, none));
});

test('flag and variable names follow --nsa-topk-<kebab> and NSA_TOPK_<SNAKE>', () => {
  expect(OPTION_SOURCES).toMatchObject({
    backend: { flag: '--nsa-topk-backend', env: 'NSA_TOPK_BACKEND' },
    deterministic: { flag: '--nsa-topk-deterministic', env: 'NSA_TOPK_DETERMINISTIC' },
    tieBreak: { flag: '--nsa-topk-tie-break', env: 'NSA_TOPK_TIE_BREAK' },
    fuse: { flag: '--nsa-topk-fuse', env: 'NSA_TOPK_FUSE' },
    graphSafe: { flag: '--nsa-topk-graph-safe', env: 'NSA_TOPK_GRAPH_SAFE' },
  });
});

describe.each(Object.keys(LAYERS) as (keyof GlobalOptions)[])('%s', (key) => {
  const [explicit, flagText, envText, flagValue, envValue] = LAYERS[key];
  const { flag, env: variable } = OPTION_SOURCES[key];
  const argv = ['node', 'script.js', `${flag}=${flagText}`];
  const env = { [variable]: envText };

  test('explicit beats flag beats env beats default', () => {
    expect(resolveOptions({ [key]: explicit }, { argv, env })[key]).toEqual(explicit);
    expect(resolveOptions({}, { argv, env })[key]).toEqual(flagValue);
    expect(resolveOptions({}, { argv: [], env })[key]).toEqual(envValue);
    expect(resolveOptions({}, none)[key]).toEqual(DEFAULTS[key]);
  });

  test('undefined explicit counts as absent; an empty variable too', () => {
    expect(resolveOptions({ [key]: undefined }, { argv: [], env })[key]).toEqual(envValue);
    expect(resolveOptions({}, { argv: [], env: { [variable]: '' } })[key]).toEqual(DEFAULTS[key]);
  });

  test('the flag also works as two words; the last occurrence wins', () => {
    expect(resolveOptions({}, { argv: [flag, flagText], env: {} })[key]).toEqual(flagValue);
    expect(resolveOptions({}, { argv: [`${flag}=${envText}`, `${flag}=${flagText}`], env: {} })[key]).toEqual(flagValue);
  });

  test('other options are left alone', () => {
    const resolved = resolveOptions({}, { argv, env });
    for (const other of Object.keys(LAYERS) as (keyof GlobalOptions)[]) {
      if (other !== key) expect(resolved[other]).toEqual(DEFAULTS[other]);
    }
  });

  test('bad values name their source', () => {
    const badText = 'bogus';
    expect(thrown(() => resolveOptions({}, { argv: [`${flag}=${badText}`], env: {} })).message).toContain(flag);
    expect(thrown(() => resolveOptions({}, { argv: [], env: { [variable]: badText } })).message).toContain(variable);
    expect(thrown(() => resolveOptions({ [key]: 42 }, none)).message).toContain(key);
  });
});

describe('boolean parsing', () => {
  test.each(['1', 'true', 'TRUE', 'yes', 'on', ' True '])('%j is true', (word) => {
    expect(resolveOptions({}, { argv: [], env: { NSA_TOPK_DETERMINISTIC: word } }).deterministic).toBe(true);
  });

  test.each(['0', 'false', 'no', 'off', 'Off'])('%j is false', (word) => {
    expect(resolveOptions({}, { argv: ['--nsa-topk-graph-safe', word], env: { NSA_TOPK_GRAPH_SAFE: '1' } }).graphSafe).toBe(false);
  });

  test('a bare boolean flag means true and does not swallow the next argument', () => {
    const r = resolveOptions({}, { argv: ['--nsa-topk-deterministic', '--nsa-topk-tie-break', 'small'], env: {} });
    expect(r.deterministic).toBe(true);
    expect(r.tieBreak).toBe('small');
  });

  test.each(['2', 'maybe', 'y'])('%j is refused with ERR_NSA_TOPK_INVALID_ARGUMENT', (word) => {
    const err = thrown(() => resolveOptions({}, { argv: [], env: { NSA_TOPK_DETERMINISTIC: word } }));
    expect(err.code).toBe('ERR_NSA_TOPK_INVALID_ARGUMENT');
  });

  test('an explicit boolean must be a boolean', () => {
    const err = thrown(() => resolveOptions({ deterministic: 'true' }, none));
    expect(err.code).toBe('ERR_NSA_TOPK_INVALID_ARGUMENT');
    expect(err.message).toContain('deterministic');
  });
});

test('a valued flag without a value is refused', () => {
  expect(thrown(() => resolveOptions({}, { argv: ['--nsa-topk-backend'], env: {} })).code).toBe('ERR_NSA_TOPK_INVALID_ARGUMENT');
});

test('an unknown backend from any source is ERR_NSA_TOPK_UNKNOWN_BACKEND listing the valid ones', () => {
  for (const sources of [{ argv: ['--nsa-topk-backend=tpu'], env: {} }, { argv: [], env: { NSA_TOPK_BACKEND: 'tpu' } }]) {
    const err = thrown(() => resolveOptions({}, sources));
    expect(err.code).toBe('ERR_NSA_TOPK_UNKNOWN_BACKEND');
    for (const name of ['auto', 'radix', 'sort', 'cpu']) expect(err.message).toContain(name);
  }
  expect(thrown(() => resolveOptions({ backend: 'tpu' }, none)).code).toBe('ERR_NSA_TOPK_UNKNOWN_BACKEND');
});

describe('choosing the backend', () => {
  const usable = { compiled: true, usable: true, devices: [] };
  const unusable = { compiled: true, usable: false, reason: 'cudaErrorNoDevice: no CUDA-capable device is detected', devices: [] };

  test('auto picks radix with a usable device, else cpu', () => {
    expect(chooseBackend('auto', () => usable)).toBe('radix');
    expect(chooseBackend('auto', () => unusable)).toBe('cpu');
  });

  test('cpu never asks for the CUDA status', () => {
    expect(chooseBackend('cpu', () => { throw new Error('asked'); })).toBe('cpu');
  });

  test.each(['radix', 'sort'] as const)('%s without CUDA throws ERR_NSA_TOPK_CUDA_UNAVAILABLE with the reason', (name) => {
    expect(chooseBackend(name, () => usable)).toBe(name);
    const err = thrown(() => chooseBackend(name, () => unusable));
    expect(err.code).toBe('ERR_NSA_TOPK_CUDA_UNAVAILABLE');
    expect(err.message).toContain('cudaErrorNoDevice');
  });
});
