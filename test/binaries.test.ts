// The one order of precedence for native binaries (scripts/binaries.js) that the loader and the
// install script share: the choice over fake candidates, the candidate list, the child-process
// probe on real and broken binaries, and both users of it end to end.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as binaries from '../scripts/binaries';
import { CPU_ONLY_ON_GPU_HOST, Candidate, candidates, choose, localBuildFile, prebuildFile, probeInChild } from '../scripts/binaries';
import { PACKAGE_ROOT, loadNative, loadedBinary } from '../lib/loader';

/** Creates fake binaries (empty files): each one's build info, or the error loading it throws; the probe, and what it loaded. */
function fakes(...binaries: [Candidate, { cuda: boolean } | Error][]): { probe: (file: string) => { cuda: boolean }; probed: string[] } {
  for (const [c] of binaries) fs.writeFileSync(c.path, '');
  const byPath = new Map(binaries.map(([c, b]) => [c.path, b]));
  const probed: string[] = [];
  return {
    probed,
    probe: (file) => {
      probed.push(file);
      const b = byPath.get(file)!;
      if (b instanceof Error) throw b;
      return b;
    },
  };
}

describe('choose', () => {
  // Fake candidates: files in a fresh folder per test, of which only those given to fakes() exist.
  let dir: string;
  let explicit: Candidate;
  let local: Candidate;
  let prebuild: Candidate;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-choose-'));
    explicit = { source: 'NSA_TOPK_BINARY', path: path.join(dir, 'explicit.node') };
    local = { source: 'local build', path: path.join(dir, 'local.node') };
    prebuild = { source: 'prebuild', path: path.join(dir, 'prebuild.node') };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the first candidate that loads wins; those before it say why not; a missing file is not loaded', () => {
    const f = fakes([local, new Error('invalid ELF header\nat dlopen')], [prebuild, { cuda: true }]);
    const c = choose([explicit, local, prebuild], f.probe, false);
    expect(c.chosen).toEqual({ ...prebuild, build: { cuda: true } });
    expect(c.tried).toEqual([{ ...explicit, why: 'no such file' }, { ...local, why: 'invalid ELF header' }]);
    expect(c.cpuOnlyOnGpuHost).toBe(false);
    expect(f.probed).toEqual([local.path, prebuild.path]);
  });

  test('without an NVIDIA driver a CPU-only binary is as good as any: later ones are not loaded', () => {
    const f = fakes([local, { cuda: false }], [prebuild, { cuda: true }]);
    const c = choose([local, prebuild], f.probe, false);
    expect(c.chosen?.source).toBe('local build');
    expect(c.cpuOnlyOnGpuHost).toBe(false);
    expect(f.probed).toEqual([local.path]);
  });

  test('on a host with an NVIDIA driver a CPU-only binary gives way to a later one with CUDA', () => {
    const f = fakes([local, { cuda: false }], [prebuild, { cuda: true }]);
    const c = choose([local, prebuild], f.probe, true);
    expect(c.chosen?.source).toBe('prebuild');
    expect(c.tried).toEqual([{ ...local, why: 'no CUDA compiled in, and this host has an NVIDIA driver' }]);
    expect(c.cpuOnlyOnGpuHost).toBe(false);
  });

  test('on such a host with nothing that has CUDA, the first that loads is chosen and flagged', () => {
    const f = fakes([local, { cuda: false }], [prebuild, new Error('wrong ELF class')]);
    const c = choose([explicit, local, prebuild], f.probe, true);
    expect(c.chosen?.source).toBe('local build');
    expect(c.tried).toEqual([{ ...explicit, why: 'no such file' }]);
    expect(c.cpuOnlyOnGpuHost).toBe(true);
  });

  test('an explicit NSA_TOPK_BINARY that loads is chosen even without CUDA on a GPU host, and flagged', () => {
    const f = fakes([explicit, { cuda: false }], [prebuild, { cuda: true }]);
    const c = choose([explicit, local, prebuild], f.probe, true);
    expect(c.chosen?.source).toBe('NSA_TOPK_BINARY');
    expect(c.cpuOnlyOnGpuHost).toBe(true);
    expect(f.probed).toEqual([explicit.path]);
  });

  test('nothing loads: no choice, every candidate with why', () => {
    expect(choose([local, prebuild], fakes().probe, true)).toEqual({
      tried: [{ ...local, why: 'no such file' }, { ...prebuild, why: 'no such file' }], cpuOnlyOnGpuHost: false,
    });
  });
});

test('candidates: NSA_TOPK_BINARY (resolved), the local build, the prebuild for this platform', () => {
  expect(candidates({ NSA_TOPK_BINARY: 'rel/a.node' }, '/pkg')).toEqual([
    { source: 'NSA_TOPK_BINARY', path: path.resolve('rel/a.node') },
    { source: 'local build', path: '/pkg/build/Release/nsa_topk.node' },
    { source: 'prebuild', path: `/pkg/prebuilds/${process.platform}-${process.arch}/nsa-topk.napi.node` },
  ]);
  expect(candidates({}, '/pkg').map((c) => c.source)).toEqual(['local build', 'prebuild']);
  expect(localBuildFile()).toBe(path.join(PACKAGE_ROOT, 'build', 'Release', 'nsa_topk.node'));
  expect(prebuildFile()).toBe(path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'nsa-topk.napi.node'));
});

describe('with real binaries', () => {
  let tmp: string;
  let broken: string;
  let working: string;  // the binary this process loaded
  beforeAll(() => {
    loadNative();
    working = loadedBinary()!.path;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-binaries-'));
    broken = path.join(tmp, 'broken.node');
    fs.writeFileSync(broken, 'not a shared object');
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Runs Node with these arguments in the package root and NSA_TOPK_BINARY set. */
  function child(binary: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(process.execPath, args, { cwd: PACKAGE_ROOT, env: { ...process.env, NSA_TOPK_BINARY: binary }, encoding: 'utf8' });
  }

  test('probeInChild reports the build info of a binary that loads, and the error of one that does not', () => {
    expect(probeInChild(working)).toEqual(loadNative().buildInfo());
    expect(() => probeInChild(broken)).toThrow(/broken\.node/);
  });

  test('the loader passes over a broken NSA_TOPK_BINARY, says why, and takes the next candidate', () => {
    const r = child(broken, '-r', './test/helpers/register-ts.js', '-e', `
      const l = require('./lib/loader.ts'); l.loadNative(); process.stdout.write(JSON.stringify(l.loadedBinary()));`);
    expect(r.stderr).toBe('');
    const loaded = JSON.parse(r.stdout) as { source: string; tried: string[] };
    expect(loaded.source).not.toBe('NSA_TOPK_BINARY');
    expect(loaded.tried[0]).toMatch(new RegExp(`^NSA_TOPK_BINARY: ${broken}: .*broken\\.node`));
  });

  test('the loader warns when its choice is a CPU-only binary on a host with an NVIDIA driver', () => {
    // This host may have neither: the choice is made to say so, the loader's answer is what is tested.
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      jest.isolateModules(() => {
        jest.doMock('../scripts/binaries', () => ({
          ...binaries,
          choose: (...args: Parameters<typeof choose>) => ({ ...choose(...args), cpuOnlyOnGpuHost: true }),
        }));
        (require('../lib/loader') as typeof import('../lib/loader')).loadNative();
      });
      expect(warn).toHaveBeenCalledWith(`nsa-topk: ${working} (${loadedBinary()!.source}): ${CPU_ONLY_ON_GPU_HOST}`, { code: 'NSA_TOPK_CPU_ONLY' });
    } finally {
      warn.mockRestore();
      jest.dontMock('../scripts/binaries');
    }
  });

  test('the install script takes a loadable NSA_TOPK_BINARY as the loader would, and builds nothing', () => {
    const copy = path.join(tmp, 'copy.node');
    fs.copyFileSync(working, copy);
    const r = child(copy, 'scripts/install.js');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`nsa-topk: using NSA_TOPK_BINARY ${copy}, which loads; nothing to build.`);
  });
});
