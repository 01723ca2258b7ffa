// Option resolution: explicit > CLI flag (--nsa-topk-...) > environment (NSA_TOPK_...) > default,
// driven with pure argv/env objects; what the process's argv and environment say is read once and
// again only on reloadOptions(), and parsed only where an option is used.
import { NsaTopkError, TopK, reloadOptions, topkSync } from '../lib';
import { loadNative } from '../lib/loader';
import { DEFAULTS, GlobalOptions, OPTION_SOURCES, chooseBackend, pickOptions, resolveOptions, splitOptionFlags } from '../lib/options';

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

describe('argv and the environment are read once', () => {
  // Every test here leaves the process's readings as it found them.
  afterEach(() => reloadOptions());

  test('at load and on reloadOptions(), not on every call', () => {
    const saved = process.env.NSA_TOPK_TIE_BREAK;
    const before = resolveOptions().tieBreak;
    process.env.NSA_TOPK_TIE_BREAK = before === 'large' ? 'small' : 'large';
    try {
      expect(resolveOptions().tieBreak).toBe(before);
      reloadOptions();
      expect(resolveOptions().tieBreak).toBe(process.env.NSA_TOPK_TIE_BREAK);
    } finally {
      if (saved === undefined) delete process.env.NSA_TOPK_TIE_BREAK;
      else process.env.NSA_TOPK_TIE_BREAK = saved;
    }
  });

  test('reloadOptions(sources) reads the given argv and environment', () => {
    reloadOptions({ argv: ['node', 'server.js', '--nsa-topk-fuse=ragged'], env: { NSA_TOPK_DETERMINISTIC: 'on' } });
    expect(resolveOptions()).toEqual({ ...DEFAULTS, fuse: 'ragged', deterministic: true });
  });

  test("a bare --nsa-topk-backend in a server's argv fails only calls that leave backend to it", () => {
    reloadOptions({ argv: ['node', 'server.js', '--nsa-topk-backend', '--port', '8080'], env: {} });
    expect(topkSync(new Float32Array(8), { k: 2, rows: 2, backend: 'cpu' }).backend).toBe('cpu');
    const err = thrown(() => topkSync(new Float32Array(8), { k: 2, rows: 2 }));
    expect(err.code).toBe('ERR_NSA_TOPK_INVALID_ARGUMENT');
    expect(err.message).toBe('Expected a value after the flag for --nsa-topk-backend but received "--port"');
  });

  test('a bad value fails only the options that use it', () => {
    const sources = { argv: ['--nsa-topk-backend=tpu'], env: { NSA_TOPK_GRAPH_SAFE: 'maybe', NSA_TOPK_TIE_BREAK: 'small' } };
    expect(pickOptions(['tieBreak', 'fuse'], {}, sources)).toEqual({ tieBreak: 'small', fuse: 'none' });
    expect(pickOptions(['backend', 'graphSafe'], { backend: 'cpu', graphSafe: true }, sources)).toEqual({ backend: 'cpu', graphSafe: true });
    expect(thrown(() => pickOptions(['graphSafe'], {}, sources)).message).toContain('NSA_TOPK_GRAPH_SAFE');
    expect(thrown(() => pickOptions(['backend'], {}, sources)).code).toBe('ERR_NSA_TOPK_UNKNOWN_BACKEND');
  });
});

describe('the process-wide graph-safe default is for TopK ops only', () => {
  afterEach(() => reloadOptions());
  const scores = new Float32Array(8);

  test('host-array calls never read it: a bad value is harmless and a true one is not sent', () => {
    reloadOptions({ argv: [], env: { NSA_TOPK_GRAPH_SAFE: 'maybe' } });
    expect(topkSync(scores, { k: 2, rows: 2, backend: 'cpu' }).indices).toHaveLength(4);
    reloadOptions({ argv: ['--nsa-topk-graph-safe'], env: {} });
    const cpuTopk = jest.spyOn(loadNative(), 'cpuTopk');
    try {
      topkSync(scores, { k: 2, rows: 2, backend: 'cpu' });
      // The same config builds the native op of a CUDA backend.
      expect(cpuTopk.mock.calls[0][0].config.graphSafe).toBe(false);
    } finally {
      cpuTopk.mockRestore();
    }
  });

  test('a TopK op reads it, naming its source, unless graphSafe is given', () => {
    reloadOptions({ argv: [], env: { NSA_TOPK_GRAPH_SAFE: 'maybe' } });
    const err = thrown(() => new TopK({ k: 1, maxRows: 1, maxLen: 10 }));
    expect(err.code).toBe('ERR_NSA_TOPK_INVALID_ARGUMENT');
    expect(err.message).toContain('NSA_TOPK_GRAPH_SAFE');
    // Past the options: built on a GPU, refused for want of CUDA elsewhere, never for the variable.
    try {
      new TopK({ k: 1, maxRows: 1, maxLen: 10, graphSafe: false }).dispose();
    } catch (e) {
      expect((e as NsaTopkError).code).toBe('ERR_NSA_TOPK_CUDA_UNAVAILABLE');
    }
  });
});

describe('splitOptionFlags (the nsa-topk command)', () => {
  test('takes every --nsa-topk-* flag with the value it takes, wherever it stands', () => {
    const argv = ['bench', '--nsa-topk-backend', 'cpu', '--rows', '1', '--nsa-topk-deterministic', '--k', '4',
      '--nsa-topk-graph-safe', 'off', '--nsa-topk-fuse=ragged', '--nsa-topk-tie-break'];
    expect(splitOptionFlags(argv)).toEqual({
      flags: ['--nsa-topk-backend', 'cpu', '--nsa-topk-deterministic', '--nsa-topk-graph-safe', 'off', '--nsa-topk-fuse=ragged', '--nsa-topk-tie-break'],
      rest: ['bench', '--rows', '1', '--k', '4'],
    });
  });

  test('the flags it takes resolve as they would in argv', () => {
    const { flags } = splitOptionFlags(['info', '--nsa-topk-tie-break', 'large', '--json', '--nsa-topk-deterministic']);
    expect(resolveOptions({}, { argv: flags, env: {} })).toEqual({ ...DEFAULTS, tieBreak: 'large', deterministic: true });
  });
});
