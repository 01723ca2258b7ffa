// Bad inputs to the device-side API, as a property test (the tables are in helpers/bad-inputs.ts):
// every argument of DeviceBuffer.alloc/from/wrap, copyFrom/copyTo/copyFromAsync/copyToAsync/fill,
// new Stream and Stream.wrap, the TopK constructor, run/runAsync, captureGraph and Graph.replay,
// and of topk()/topkSync() on the CUDA backends. Each refusal must be an NsaTopkError with its code
// and the argument named. Nothing may run: buffers a bad call names keep their bytes, outputs
// poisoned before the bad runs still hold the poison after them, a bad capture never calls its
// body. And the same objects must then still work, runs matching the CPU backend.
import { BACKENDS, DTYPES, DeviceBuffer, FUSES, NsaTopkError, Stream, TIE_BREAKS, TopK, captureGraph, cudaStatus, topk, topkSync } from '../../lib';
import type { DType, FuseName, ScoresArray, TieBreak, TopKOpOptions, TopKOptions, TopKRunArgs } from '../../lib';
import { ErrorCodes } from '../../lib/errors';
import { loadNative } from '../../lib/loader';
import { RADIX_PATHS, dtypeBytes } from '../../lib/options';
import { Output, allocScores, intIn, makeScores, pageTableOperands, pick, raggedOffsets, randomWindows, rng } from '../../lib/reference';
import {
  Bad, Expected, Refusals, bad, badBools, badChoices, badInts, badObjects, disposed, hostProperty, invalid, otherTypes, setKey, unknownBackend,
  unknownKeys,
} from '../helpers/bad-inputs';
import { rowsThatDiffer } from '../helpers/compare';
import { describeGpu } from '../helpers/gpu';
import { testSeed } from '../helpers/seed';

jest.setTimeout(120_000);

const SEED = testSeed(20260413);
const INT32_MAX = 2 ** 31 - 1;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const POISON = 0xab;

/** Values that are not objects at all, for arguments that are objects of their own kind. */
const scalars = (list: Bad[]) => list.filter((b) => typeof b.value !== 'object' || b.value === null || Array.isArray(b.value));
/** `list` with each value put under `key` of an otherwise valid object. */
const under = (key: string, list: Bad[], valid: Record<string, unknown>, expect: Expected): Bad[] =>
  list.map((b) => ({ ...b, label: `${key} ${b.label}`, value: { ...valid, [key]: b.value }, expect: b.expect ?? expect }));
/** Unknown keys added to an otherwise valid object. */
const withUnknownKeys = (known: readonly string[], valid: Record<string, unknown>, others: string[] = []): Bad[] =>
  unknownKeys(known, others).map((b) => {
    const o = { ...valid };
    setKey(o, b.value as string, 0);
    return { ...b, value: o };
  });

/** Makes a call that must throw (or reject); whatever it wrongly makes is disposed, so a miss leaks nothing. */
const disposing = (make: () => unknown) => async () => {
  const made = await make();
  (made as { dispose?(): void } | undefined)?.dispose?.();
};

describeGpu('bad inputs to the device API', () => {
  const rand = rng(SEED);
  const tallies: Refusals[] = [];
  const tally = (suite: string) => {
    const t = new Refusals(suite, SEED);
    tallies.push(t);
    return t;
  };
  let stream: Stream;
  let deadStream: Stream;
  let deadBuffer: DeviceBuffer;
  let live: DeviceBuffer;

  beforeAll(() => {
    stream = new Stream();
    deadStream = new Stream();
    deadStream.dispose();
    deadBuffer = DeviceBuffer.alloc(4096);
    deadBuffer.dispose();
    live = DeviceBuffer.alloc(4096);
  });

  afterAll(() => {
    for (const x of [stream, live]) x?.dispose();
    const tried = tallies.reduce((n, t) => n + t.tried, 0);
    console.log([...tallies.map((t) => t.summary()), `device API, all: ${tried} bad inputs tried`].join('\n'));
  });

  /** Bad values for a Stream argument. */
  const badStreams = (name: string): Bad[] => [
    bad('undefined', undefined), bad('null', null), bad('a number', 5), bad('a string', 'stream'), bad('an object', {}),
    bad('a handle', 0n), bad('a DeviceBuffer', live), bad('a Stream never made', Object.create(Stream.prototype)),
    bad('a look-alike', { handle: stream.handle, device: 0 }), bad('a disposed Stream', deadStream, disposed(name)),
  ];

  /** Bad values for a DeviceBuffer argument that needs `minBytes`; `own` keeps what must be freed after. */
  const badBuffers = (name: string, minBytes: number, required: boolean, own: (b: DeviceBuffer) => DeviceBuffer): Bad[] => [
    ...(required ? [bad('undefined', undefined)] : []),
    bad('null', null), bad('a number', 5), bad('a string', 'buffer'), bad('an object', {}), bad('a pointer', live.ptr),
    bad('a host Int32Array', new Int32Array(Math.ceil(minBytes / 4))), bad('a Stream', stream),
    bad('a DeviceBuffer never made', Object.create(DeviceBuffer.prototype)), bad('a look-alike', { ptr: live.ptr, bytes: live.bytes, device: 0 }),
    bad('a disposed DeviceBuffer', deadBuffer, disposed(name)),
    bad(`${minBytes - 1} bytes, one short`, own(DeviceBuffer.alloc(minBytes - 1))),
  ];

  /** Bad DeviceOptions ({ device }), named `opts`. */
  const badDeviceOptions = (): Bad[] => [
    ...badObjects(false).map((b) => ({ ...b, expect: invalid('opts') })),
    ...under('device', badInts(rand, 0, MAX_SAFE, false), {}, invalid('opts.device')),
    bad('device 2**20', { device: 2 ** 20 }, invalid('opts.device')),
    ...withUnknownKeys(['device'], { device: 0 }, ['stream', 'ordinal']),
  ];

  /** Bad host arrays (anything but an ArrayBufferView), named `host`. */
  const badHosts = (): Bad[] => [
    bad('undefined', undefined), bad('a number', 16), bad('a string', 'abcd'), bad('a number array', [1, 2, 3, 4]), bad('an object', {}),
    bad('an ArrayBuffer', new ArrayBuffer(16)), bad('a look-alike', { buffer: new ArrayBuffer(16), byteOffset: 0, byteLength: 16 }),
    ...otherTypes(),
  ];

  test('DeviceBuffer.alloc, from and wrap, new Stream and Stream.wrap', async () => {
    const t = tally('constructors');
    const check = async (what: string, name: string, list: Bad[], call: (value: unknown) => unknown) => {
      for (const b of list) await t.check(`${what}: ${b.label}`, b.expect ?? invalid(name), disposing(() => call(b.value)));
    };
    const sizes = [
      ...scalars(badInts(rand, 0, MAX_SAFE, true)),
      ...under('dtype', [...badChoices(rand, [...DTYPES, 'i32']), bad('undefined', undefined)], { length: 4 }, invalid('size.dtype')),
      ...under('length', badInts(rand, 0, MAX_SAFE, true), { dtype: 'f32' }, invalid('size.length')),
      ...withUnknownKeys(['dtype', 'length'], { dtype: 'f32', length: 4 }, ['bytes']),
    ];
    await check('DeviceBuffer.alloc size', 'size', sizes, (size) => DeviceBuffer.alloc(size as never));
    await check('DeviceBuffer.alloc opts', 'opts', badDeviceOptions(), (opts) => DeviceBuffer.alloc(16, opts as never));
    await check('DeviceBuffer.from host', 'host', badHosts(), (host) => DeviceBuffer.from(host as never));
    await check('DeviceBuffer.from opts', 'opts', badDeviceOptions(), (opts) => DeviceBuffer.from(new Float32Array(4), opts as never));
    const notBigints = [bad('undefined', undefined), bad('a number', 16), bad('a fraction', 1.5), bad('a hex string', '0x10'), bad('true', true), bad('an object', {}), bad('[16n]', [16n])];
    // Beyond [0, 2^64): refused by native code, with the same name.
    const outOfRange = [bad('-1n', -1n), bad('2n ** 64n', 2n ** 64n)];
    await check('DeviceBuffer.wrap ptr', 'ptr', [...notBigints, ...outOfRange], (ptr) => DeviceBuffer.wrap(ptr as never, 16));
    await check('DeviceBuffer.wrap bytes', 'bytes', badInts(rand, 0, MAX_SAFE, true), (bytes) => DeviceBuffer.wrap(live.ptr, bytes as never));
    await check('DeviceBuffer.wrap opts', 'opts', badDeviceOptions(), (opts) => DeviceBuffer.wrap(live.ptr, live.bytes, opts as never));
    await check('new Stream opts', 'opts', badDeviceOptions(), (opts) => new Stream(opts as never));
    await check('Stream.wrap handle', 'handle', [...notBigints, ...outOfRange], (handle) => Stream.wrap(handle as never));
    await check('Stream.wrap opts', 'opts', badDeviceOptions(), (opts) => Stream.wrap(0n, opts as never));
    expect(t.failures).toEqual([]);

    // Still working: each makes a usable object.
    const host = Float32Array.from({ length: 64 }, (_, i) => i - 7.5);
    const from = DeviceBuffer.from(host);
    const view = DeviceBuffer.wrap(from.ptr, from.bytes);
    const alloc = DeviceBuffer.alloc({ dtype: 'f32', length: 64 });
    const own = new Stream();
    const legacy = Stream.wrap(0n);
    alloc.fill(0, { stream: own });
    own.synchronize();
    const back = new Float32Array(64);
    view.copyTo(back);
    expect(back).toEqual(host);
    alloc.copyFrom(back);
    legacy.synchronize();
    for (const x of [view, from, alloc, own, legacy]) x.dispose();
  });

  test('copyFrom, copyTo, copyFromAsync, copyToAsync and fill: nothing is copied or filled', async () => {
    const t = tally('copies and fill');
    const buf = DeviceBuffer.alloc(64);
    const pattern = Uint8Array.from({ length: 64 }, (_, i) => i);
    buf.copyFrom(pattern);
    const dst = new Uint8Array(8);
    const scratch = new Uint8Array(64);
    const opts = (keys: string[], valid: Record<string, unknown>): Bad[] => [
      ...under('byteOffset', badInts(rand, 0, MAX_SAFE, false), valid, invalid('opts.byteOffset')),
      // A range past the end names the host array that does not fit.
      bad('byteOffset past the end for the host', { ...valid, byteOffset: 60 }, invalid('host')),
      ...withUnknownKeys(keys, valid, ['offset', keys.includes('stream') ? 'bytes' : 'stream']),
    ];
    const tooBig = bad('65 bytes into 64', new Uint8Array(65));
    const methods: [string, string, Bad[], (value: unknown) => unknown][] = [
      ['copyFrom host', 'host', [...badHosts(), tooBig], (host) => buf.copyFrom(host as never)],
      ['copyFrom opts', 'opts', [...badObjects(false), ...opts(['byteOffset'], {})], (o) => buf.copyFrom(new Uint8Array(8), o as never)],
      ['copyTo host', 'host', [...badHosts(), tooBig], (host) => buf.copyTo(host as never)],
      ['copyTo opts', 'opts', [...badObjects(false), ...opts(['byteOffset'], {})], (o) => buf.copyTo(dst, o as never)],
      ['copyFromAsync host', 'host', [...badHosts(), tooBig], (host) => buf.copyFromAsync(host as never, { stream })],
      ['copyToAsync host', 'host', [...badHosts(), tooBig], (host) => buf.copyToAsync(host as never, { stream })],
      ...(['copyFromAsync', 'copyToAsync'] as const).map((m): [string, string, Bad[], (value: unknown) => unknown] => [
        `${m} opts`, 'opts',
        [
          // Without opts (or null) there is no stream.
          bad('undefined', undefined, invalid('opts.stream')), bad('null', null, invalid('opts.stream')),
          ...badObjects(false).filter((b) => b.value !== null),
          ...under('stream', badStreams('opts.stream'), {}, invalid('opts.stream')),
          ...opts(['byteOffset', 'stream'], { stream }),
        ],
        (o) => (m === 'copyFromAsync' ? buf.copyFromAsync(new Uint8Array(8), o as never) : buf.copyToAsync(dst, o as never)),
      ]),
      ['fill byte', 'byte', badInts(rand, 0, 255, true), (byte) => buf.fill(byte as never)],
      ['fill opts', 'opts', [...badObjects(false), ...under('stream', badStreams('opts.stream').filter((b) => b.value !== undefined), {}, invalid('opts.stream')), ...withUnknownKeys(['stream'], { stream }, ['byteOffset'])], (o) => buf.fill(0x11, o as never)],
      ['a disposed buffer', 'this', [bad('copyFrom', (b: DeviceBuffer) => b.copyFrom(new Uint8Array(4))), bad('copyTo', (b: DeviceBuffer) => b.copyTo(dst)),
        bad('copyFromAsync', (b: DeviceBuffer) => b.copyFromAsync(new Uint8Array(4), { stream })), bad('copyToAsync', (b: DeviceBuffer) => b.copyToAsync(dst, { stream })),
        bad('fill', (b: DeviceBuffer) => b.fill(0, { stream })), bad('ptr', (b: DeviceBuffer) => b.ptr)].map((b) => ({ ...b, expect: disposed('this') })),
      (use) => (use as (b: DeviceBuffer) => unknown)(deadBuffer)],
    ];
    for (const [what, name, list, call] of methods) {
      for (const b of list) {
        dst.fill(0xee);
        await t.check(`${what}: ${b.label}`, b.expect ?? invalid(name), () => call(b.value));
        stream.synchronize();
        buf.copyTo(scratch);
        if (!scratch.every((x, i) => x === pattern[i])) t.fail(`${what}: ${b.label}`, 'the buffer changed');
        if (!dst.every((x) => x === 0xee)) t.fail(`${what}: ${b.label}`, 'the host array was written');
      }
    }
    expect(t.failures).toEqual([]);

    // Still working, each of them.
    buf.copyFrom(Uint8Array.of(9, 9), { byteOffset: 2 });
    await buf.copyFromAsync(Uint8Array.of(7), { stream, byteOffset: 63 });
    await buf.copyToAsync(scratch, { stream });
    expect([scratch[1], scratch[2], scratch[3], scratch[4], scratch[63]]).toEqual([1, 9, 9, 4, 7]);
    buf.fill(0x5a);
    buf.copyTo(dst, { byteOffset: 8 });
    expect(dst.every((x) => x === 0x5a)).toBe(true);
    buf.dispose();
  });

  test('the TopK constructor', async () => {
    const t = tally('TopK constructor');
    const opOptions = (): TopKOpOptions => {
      const backend = pick(rand, ['radix', 'sort'] as const);
      return {
        k: intIn(rand, 1, 16), maxRows: intIn(rand, 1, 8), maxLen: intIn(rand, 1, 256), dtype: pick(rand, DTYPES), backend,
        tieBreak: pick(rand, TIE_BREAKS), deterministic: rand() < 0.5, sorted: rand() < 0.5, values: rand() < 0.5,
        fuse: pick(rand, FUSES), pageSize: intIn(rand, 1, 4), graphSafe: rand() < 0.5, pdl: rand() < 0.5, graphCacheSize: intIn(rand, 1, 8),
        device: 0, path: backend === 'radix' ? pick(rand, RADIX_PATHS) : 'auto',
      };
    };
    // Keyed by TopKOpOptions: an option added to the type and not here fails to compile.
    const options: { [K in keyof Required<TopKOpOptions>]: () => Bad[] } = {
      k: () => badInts(rand, 1, INT32_MAX, true),
      maxRows: () => badInts(rand, 1, INT32_MAX, true),
      maxLen: () => badInts(rand, 1, INT32_MAX, true),
      dtype: () => badChoices(rand, DTYPES),
      // 'cpu' is a backend, but not one an op runs on.
      backend: () => [...badChoices(rand, BACKENDS, unknownBackend('backend')), bad("'cpu'", 'cpu')],
      tieBreak: () => badChoices(rand, TIE_BREAKS),
      deterministic: () => badBools(),
      sorted: () => badBools(),
      values: () => badBools(),
      fuse: () => badChoices(rand, FUSES),
      pageSize: () => badInts(rand, 1, INT32_MAX, false),
      graphSafe: () => badBools(),
      pdl: () => badBools(),
      graphCacheSize: () => badInts(rand, 1, INT32_MAX, false),
      device: () => [...badInts(rand, 0, MAX_SAFE, false), bad('2**20', 2 ** 20)],
      path: () => badChoices(rand, RADIX_PATHS),
    };
    const cases: [string, Bad[], (o: Record<string, unknown>, b: Bad) => void][] = [
      ['opts', badObjects(true), () => undefined],
      ...Object.entries(options).map(([key, list]): [string, Bad[], (o: Record<string, unknown>, b: Bad) => void] => [key, list(), (o, b) => { o[key] = b.value; }]),
      ['unknown option', unknownKeys(Object.keys(options), ['rows', 'stride', 'threads', 'lengths', 'maxK']), (o, b) => setKey(o, b.value as string, 1)],
    ];
    for (const [key, list, put] of cases) {
      for (const b of list) {
        const base = opOptions();
        const o: Record<string, unknown> = { ...base };
        put(o, b);
        await t.check(`new TopK ${key}: ${b.label}`, b.expect ?? invalid(key), disposing(() => new TopK((key === 'opts' ? b.value : o) as never)));
        // The same options without the bad value make an op.
        new TopK(base).dispose();
      }
    }
    expect(t.failures).toEqual([]);
  });

  // make_layout (csrc/cuda/dispatch.cu) once sized the sort backend's word buffers as
  // size_t(maxRows * seg) * 8, which wraps for maxRows 2^31 - 1 and maxLen 2^30 + 1 (both in the
  // checked int32 range) to a 16 GiB workspace that calls within those maxima would overrun; sizes
  // now saturate, so the allocation fails instead.
  test('an op whose workspace size overflows 64 bits is refused, not built with a wrapped-around one', () => {
    const [maxRows, maxLen] = [2 ** 31 - 1, 2 ** 30 + 1];
    let op: TopK;
    try {
      op = new TopK({ k: 1, maxRows, maxLen, backend: 'sort' });
    } catch (err) {
      expect(err).toBeInstanceOf(NsaTopkError);
      return;
    }
    const bytes = op.workspaceBytes;
    op.dispose();
    expect(bytes).toBeGreaterThanOrEqual(2 * maxRows * maxLen * 8);
  });

  describe('run and runAsync', () => {
    // Ops of each kind that changes what run() asks for: values or not, each fuse mode, both
    // backends, graph-safe. Each holds device operands for its largest call, outputs poisoned
    // for the bad calls and clean ones for the good calls. Every option that has a flag or
    // variable is given, so the process's cannot change them.
    type Spec = TopKOpOptions & { dtype: DType; tieBreak: TieBreak; fuse: FuseName; deterministic: boolean; sorted: boolean; values: boolean; graphSafe: boolean };
    const SPECS: [string, Spec][] = [
      ['f32 radix', { k: 8, maxRows: 4, maxLen: 64, dtype: 'f32', backend: 'radix', tieBreak: 'small', fuse: 'none', deterministic: false, sorted: false, values: false, graphSafe: false }],
      ['f16 sort values ragged', { k: 5, maxRows: 3, maxLen: 48, dtype: 'f16', backend: 'sort', tieBreak: 'large', fuse: 'ragged', deterministic: false, sorted: true, values: true, graphSafe: false }],
      ['bf16 radix graph-safe page-table', { k: 6, maxRows: 4, maxLen: 40, dtype: 'bf16', backend: 'radix', tieBreak: 'small', fuse: 'page-table', pageSize: 2, deterministic: false, sorted: false, values: true, graphSafe: true }],
      ['f32 radix sorted deterministic', { k: 8, maxRows: 4, maxLen: 64, dtype: 'f32', backend: 'radix', tieBreak: 'large', fuse: 'none', deterministic: true, sorted: true, values: true, graphSafe: false }],
    ];

    interface Fixture {
      name: string;
      spec: Spec;
      op: TopK;
      host: TopKOptions & { scores: ScoresArray; lengths: Int32Array; rowStarts: Int32Array };
      dev: Record<'scores' | 'lengths' | 'rowStarts' | 'offsets' | 'pageTable' | 'rowToBatch' | 'pageTableStarts', DeviceBuffer | undefined>;
      poisoned: { out: DeviceBuffer; values?: DeviceBuffer };
      clean: { out: DeviceBuffer; values?: DeviceBuffer };
    }
    const fixtures: Fixture[] = [];

    beforeAll(() => {
      for (const [name, spec] of SPECS) {
        const { maxRows: rows, maxLen: stride, k } = spec;
        const scores = makeScores(spec.dtype, rows, stride, ['normal', 'relu', 'special'], rand);
        const host = {
          k, rows, stride, scores, ...randomWindows(rows, stride, k, rand),
          ...(spec.fuse === 'ragged' ? { offsets: raggedOffsets(rows, rand) } : {}),
          ...(spec.fuse === 'page-table' ? pageTableOperands(rows, stride, spec.pageSize!, rand, 3) : {}),
        };
        const upload = (a?: ArrayBufferView) => (a === undefined ? undefined : DeviceBuffer.from(a));
        const outputs = () => ({
          out: DeviceBuffer.alloc({ dtype: 'i32', length: rows * k }),
          values: spec.values ? DeviceBuffer.alloc({ dtype: spec.dtype, length: rows * k }) : undefined,
        });
        const ints = (a?: ArrayLike<number>) => upload(a === undefined ? undefined : Int32Array.from(a));
        const f: Fixture = {
          name, spec, op: new TopK(spec), host,
          dev: {
            scores: upload(scores), lengths: upload(host.lengths), rowStarts: upload(host.rowStarts), offsets: ints(host.offsets),
            pageTable: ints(host.pageTable), rowToBatch: ints(host.rowToBatch), pageTableStarts: ints(host.pageTableStarts),
          },
          poisoned: outputs(),
          clean: outputs(),
        };
        f.poisoned.out.fill(POISON);
        f.poisoned.values?.fill(POISON);
        fixtures.push(f);
      }
    });

    afterAll(() => {
      for (const f of fixtures) {
        for (const x of [f.op, ...Object.values(f.dev), f.poisoned.out, f.poisoned.values, f.clean.out, f.clean.values]) x?.dispose();
      }
    });

    /** A random valid call of fixture f, on its poisoned outputs, and the same call for the CPU backend. */
    function validCall(f: Fixture): { args: TopKRunArgs; cpu: { scores: ScoresArray; options: TopKOptions } } {
      const { spec, host, dev } = f;
      const rows = intIn(rand, 1, spec.maxRows);
      const stride = intIn(rand, 1, spec.maxLen);
      const use = () => rand() < 0.5;
      const args: TopKRunArgs = { scores: dev.scores!, rows, stride, out: f.poisoned.out, values: f.poisoned.values, stream };
      const cpu: TopKOptions = {
        k: spec.k, rows, stride, dtype: spec.dtype, backend: 'cpu',
        tieBreak: spec.tieBreak, deterministic: spec.deterministic, sorted: spec.sorted, values: spec.values, fuse: spec.fuse, pageSize: spec.pageSize,
      };
      const perRow = (key: 'lengths' | 'rowStarts' | 'offsets' | 'rowToBatch' | 'pageTableStarts', always = false) => {
        if (dev[key] && (always || use())) {
          args[key] = dev[key];
          cpu[key] = Int32Array.from(host[key] as ArrayLike<number>).subarray(0, rows);
        }
      };
      perRow('lengths');
      perRow('rowStarts');
      if (spec.fuse === 'ragged') perRow('offsets', true);
      if (spec.fuse === 'page-table') {
        Object.assign(args, { pageTable: dev.pageTable, pageTableStride: host.pageTableStride });
        if (use()) args.pageTableRows = host.pageTable!.length / host.pageTableStride!;
        Object.assign(cpu, { pageTable: host.pageTable, pageTableStride: host.pageTableStride });
        perRow('rowToBatch');
        perRow('pageTableStarts');
      }
      return { args, cpu: { scores: host.scores.subarray(0, rows * stride), options: cpu } };
    }

    type RunBad = Bad & { apply?: (args: TopKRunArgs) => void };
    interface RunArg {
      /** Which ops the argument is checked for. */
      when?: (f: Fixture) => boolean;
      bad: (f: Fixture, args: TopKRunArgs, own: (b: DeviceBuffer) => DeviceBuffer) => RunBad[];
    }
    const ragged = (f: Fixture) => f.spec.fuse === 'ragged';
    const paged = (f: Fixture) => f.spec.fuse === 'page-table';
    const needs = (f: Fixture, a: TopKRunArgs) => ({ row: a.rows * 4, out: a.rows * f.spec.k * 4, values: a.rows * f.spec.k * dtypeBytes(f.spec.dtype) });
    // Keyed by TopKRunArgs: an argument added to the type and not here fails to compile.
    const RUN_ARGS: { [K in keyof Required<TopKRunArgs>]: RunArg } = {
      scores: {
        bad: (f, a, own) => [
          ...badBuffers('scores', a.rows * a.stride * dtypeBytes(f.spec.dtype), true, own),
          ...(f.spec.dtype === 'f32' ? [bad('sized for f16 (the wrong dtype)', own(DeviceBuffer.alloc(a.rows * a.stride * 2)))] : []),
        ],
      },
      rows: { bad: (f) => badInts(rand, 1, f.spec.maxRows, true) },
      stride: {
        bad: (f) => [
          ...badInts(rand, 1, INT32_MAX, true),
          // Past maxLen: the radix backend reads only windows, but without lengths the whole row.
          { label: 'maxLen + 1 without lengths', value: f.spec.maxLen + 1, apply: (a) => { a.stride = f.spec.maxLen + 1; delete a.lengths; } },
        ],
      },
      lengths: { bad: (f, a, own) => badBuffers('lengths', needs(f, a).row, false, own) },
      rowStarts: { bad: (f, a, own) => badBuffers('rowStarts', needs(f, a).row, false, own) },
      offsets: { when: ragged, bad: (f, a, own) => badBuffers('offsets', needs(f, a).row, true, own) },
      pageTable: { when: paged, bad: (_f, a, own) => badBuffers('pageTable', a.pageTableStride! * 4, true, own) },
      pageTableStride: {
        when: paged,
        bad: (_f, a) => [...badInts(rand, 1, INT32_MAX, true), bad('longer than the table', a.pageTable!.bytes / 4 + 1, invalid('pageTable'))],
      },
      pageTableRows: { when: paged, bad: (_f, a) => badInts(rand, 1, Math.floor(a.pageTable!.bytes / 4 / a.pageTableStride!), false) },
      rowToBatch: { when: paged, bad: (f, a, own) => badBuffers('rowToBatch', needs(f, a).row, false, own) },
      pageTableStarts: { when: paged, bad: (f, a, own) => badBuffers('pageTableStarts', needs(f, a).row, false, own) },
      out: { bad: (f, a, own) => badBuffers('out', needs(f, a).out, true, own) },
      values: {
        bad: (f, a, own) => (f.spec.values
          ? badBuffers('values', needs(f, a).values, true, own)
          // An op built without values takes none, not even null.
          : [bad('a buffer, to an op without values', f.clean.out), bad('null, to an op without values', null)]),
      },
      stream: { bad: () => badStreams('stream') },
    };
    const CASES: Record<string, RunArg> = {
      args: { bad: () => badObjects(true) },
      ...RUN_ARGS,
      'unknown argument': {
        bad: () => unknownKeys(Object.keys(RUN_ARGS), ['k', 'lenghts', 'output', 'maxRows']).map((b) => ({ ...b, apply: (a) => setKey(a as never, b.value as string, 1) })),
      },
    };

    test('every bad argument is refused, nothing runs, and the op then matches the CPU backend', async () => {
      const t = tally('run/runAsync');
      let good = 0;
      for (const [arg, spec] of Object.entries(CASES)) {
        // Every bad value of the argument, for each op it applies to, in a fresh random call.
        for (const f of fixtures.filter((x) => spec.when?.(x) ?? true)) {
          const owned: DeviceBuffer[] = [];
          const own = (buffer: DeviceBuffer) => { owned.push(buffer); return buffer; };
          const size = spec.bad(f, validCall(f).args, own).length;
          for (let i = 0; i < size; i++) {
            const { args, cpu } = validCall(f);
            const b = spec.bad(f, args, own)[i];
            const call = { ...args } as TopKRunArgs;
            if (b.apply) b.apply(call);
            else if (arg !== 'args') (call as unknown as Record<string, unknown>)[arg] = b.value;
            const what = `${f.name} ${arg}: ${b.label}`;
            const given = arg === 'args' ? b.value : call;
            await t.check(`run ${what}`, b.expect ?? invalid(arg), () => f.op.run(given as never));
            await t.check(`runAsync ${what}`, b.expect ?? invalid(arg), () => f.op.runAsync(given as never));
            stream.synchronize();
            for (const [name, buffer] of [['out', f.poisoned.out], ['values', f.poisoned.values]] as const) {
              if (!buffer) continue;
              const bytes = new Uint8Array(buffer.bytes);
              buffer.copyTo(bytes);
              if (!bytes.every((x) => x === POISON)) t.fail(what, `the poisoned ${name} was written: a bad call ran`);
            }
            // The same call, on the clean outputs, against the CPU backend.
            await f.op.runAsync({ ...args, out: f.clean.out, values: f.clean.values });
            const got: Output = { indices: new Int32Array(args.rows * f.spec.k) };
            f.clean.out.copyTo(got.indices);
            if (f.clean.values) {
              got.values = allocScores(f.spec.dtype, args.rows * f.spec.k);
              f.clean.values.copyTo(got.values);
            }
            const differ = rowsThatDiffer(got, topkSync(cpu.scores, cpu.options), args.rows, f.spec.k);
            if (differ.length > 0) t.fail(`${what}, then the call without it`, `rows ${differ.join(', ')} differ from the CPU backend`);
            good++;
          }
          for (const x of owned) x.dispose();
        }
      }
      expect(t.failures).toEqual([]);
      expect(good).toBe(t.tried / 2);
    });

    test('a disposed op refuses run and runAsync', async () => {
      const t = tally('disposed op');
      for (const f of fixtures) {
        const op = new TopK(f.spec);
        op.dispose();
        const { args } = validCall(f);
        const expected = { code: ErrorCodes.Disposed, names: /TopK op was disposed/ };
        await t.check(`run on a disposed ${f.name}`, expected, () => op.run(args));
        await t.check(`runAsync on a disposed ${f.name}`, expected, () => op.runAsync(args));
      }
      expect(t.failures).toEqual([]);
    });
  });

  test('captureGraph and Graph.replay', async () => {
    const t = tally('captureGraph/replay');
    const target = DeviceBuffer.alloc(256);
    const bytes = new Uint8Array(256);
    const holds = (byte: number) => {
      stream.synchronize();
      target.copyTo(bytes);
      return bytes.every((x) => x === byte);
    };
    let ran = false;
    const body = () => { ran = true; target.fill(0x5a, { stream }); };
    const badBodies = [bad('undefined', undefined), bad('a number', 5), bad('a string', 'body'), bad('an object', {}), bad('an array', [body]), ...otherTypes().filter((b) => typeof b.value !== 'function')];
    const captures: [string, Bad[], (value: unknown) => unknown][] = [
      ['stream', badStreams('stream'), (s) => captureGraph(s as never, body)],
      ['body', badBodies, (b) => captureGraph(stream, b as never)],
    ];
    for (const [name, list, call] of captures) {
      for (const b of list) {
        ran = false;
        await t.check(`captureGraph ${name}: ${b.label}`, b.expect ?? invalid(name), disposing(() => call(b.value)));
        if (ran) t.fail(`captureGraph ${name}: ${b.label}`, 'the body ran');
      }
    }
    // Captures CUDA refuses: the legacy default stream, a capture inside a capture of the same
    // stream, a body that synchronizes the stream it is captured on. Each leaves the stream usable.
    const legacy = Stream.wrap(0n);
    const capture = { code: ErrorCodes.Capture, names: /beginning a graph capture/ };
    await t.check('captureGraph on the legacy default stream', capture, disposing(() => captureGraph(legacy, body)));
    await t.check('captureGraph inside a capture of the same stream', capture, disposing(() => captureGraph(stream, () => { captureGraph(stream, body).dispose(); })));
    await t.check('a body that synchronizes its stream', { code: ErrorCodes.Cuda, names: /synchronizing a stream/ }, disposing(() => captureGraph(stream, () => stream.synchronize())));
    legacy.dispose();
    expect(stream.isCapturing()).toBe(false);

    target.fill(0);
    const graph = captureGraph(stream, body);
    if (!holds(0)) t.fail('captureGraph', 'capturing ran the body\'s work');
    for (const b of badStreams('stream')) {
      await t.check(`replay stream: ${b.label}`, b.expect ?? invalid('stream'), () => graph.replay(b.value as never));
      if (!holds(0)) t.fail(`replay stream: ${b.label}`, 'the graph ran');
    }
    graph.replay(stream);
    expect(holds(0x5a)).toBe(true);
    graph.dispose();
    await t.check('replay of a disposed graph', { code: ErrorCodes.Disposed, names: /Graph was disposed/ }, () => graph.replay(stream));
    expect(t.failures).toEqual([]);
    target.dispose();
  });

  test.each(['radix', 'sort'] as const)('topk() and topkSync() on %s: the host-array property', async (backend) => {
    const t = tally(`topk/topkSync, backend ${backend}`);
    await hostProperty(t, backend, rand, loadNative());
    expect(t.failures).toEqual([]);
    expect(t.tried).toBeGreaterThan(1000);
  });

  describe('device ordinals past the last device', () => {
    const past = () => cudaStatus().devices.length;
    const scores = Float32Array.from({ length: 64 }, (_, i) => (i * 37) % 64);

    // Refused up front as an argument, naming it, before CUDA is asked to select the device.
    test('alloc, from, wrap, new Stream, Stream.wrap, new TopK, topk and topkSync refuse it, and work after', async () => {
      const t = tally('device ordinals');
      const n = past();
      const makers: [string, string, () => unknown][] = [
        ['DeviceBuffer.alloc', 'opts.device', () => DeviceBuffer.alloc(16, { device: n })],
        ['DeviceBuffer.from', 'opts.device', () => DeviceBuffer.from(scores, { device: n })],
        ['DeviceBuffer.wrap', 'opts.device', () => DeviceBuffer.wrap(live.ptr, live.bytes, { device: n })],
        ['new Stream', 'opts.device', () => new Stream({ device: n })],
        ['Stream.wrap', 'opts.device', () => Stream.wrap(0n, { device: n })],
        ['new TopK', 'device', () => new TopK({ k: 4, maxRows: 1, maxLen: 64, device: n })],
        ['topkSync', 'device', () => topkSync(scores, { k: 4, rows: 1, backend: 'radix', device: n })],
        ['topk', 'device', () => topk(scores, { k: 4, rows: 1, backend: 'radix', device: n })],
      ];
      for (const [what, name, make] of makers) await t.check(`${what} on device ${n}`, invalid(name), disposing(make));
      expect(t.failures).toEqual([]);
      const r = topkSync(scores, { k: 4, rows: 1, backend: 'radix', tieBreak: 'small', sorted: true });
      expect(Array.from(r.indices)).toEqual(Array.from(topkSync(scores, { k: 4, rows: 1, backend: 'cpu', tieBreak: 'small', sorted: true }).indices));
    });
  });

  // Needs two devices: buffers and streams of one device given to an op or buffer of another.
  (cudaStatus().devices.length >= 2 ? test : test.skip)('buffers and streams on another device are refused as such', async () => {
    const t = tally('device mismatch');
    const mismatch = (name: string) => ({ code: ErrorCodes.DeviceMismatch, names: new RegExp(name) });
    const op = new TopK({ k: 4, maxRows: 1, maxLen: 64 });
    const scores = DeviceBuffer.alloc(256);
    const out = DeviceBuffer.alloc(16);
    const other = DeviceBuffer.alloc(256, { device: 1 });
    const otherStream = new Stream({ device: 1 });
    await t.check('run scores on device 1', mismatch('scores'), () => op.run({ scores: other, rows: 1, stride: 64, out, stream }));
    await t.check('run out on device 1', mismatch('out'), () => op.run({ scores, rows: 1, stride: 64, out: other, stream }));
    await t.check('run stream on device 1', mismatch('stream'), () => op.run({ scores, rows: 1, stride: 64, out, stream: otherStream }));
    await t.check('fill on a stream of device 1', mismatch('stream'), () => scores.fill(0, { stream: otherStream }));
    await t.check('copyToAsync on a stream of device 1', mismatch('stream'), () => scores.copyToAsync(new Uint8Array(4), { stream: otherStream }));
    for (const x of [op, scores, out, other, otherStream]) x.dispose();
    expect(t.failures).toEqual([]);
  });
});
