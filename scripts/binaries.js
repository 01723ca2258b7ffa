// The native binaries nsa-topk can run, in the one order of precedence that the loader
// (lib/loader.ts, at run time) and the install script (scripts/install.js, which builds only when
// the loader would find nothing fit) both use. Plain CommonJS: in a git checkout the install script
// runs before `prepare` has compiled lib/ into dist/.
//
// The order: NSA_TOPK_BINARY (an explicit path), the local build (build/Release/nsa_topk.node),
// then the prebuild (prebuilds/<platform>-<arch>/nsa-topk.napi.node, which scripts/prebuild.js
// writes). As node-llama-cpp does, each candidate is tested by loading it before it is chosen (the
// caller's probe: in process for the loader, in a child process for the scripts). The first that
// loads is chosen, except that on a host with an NVIDIA driver a CPU-only binary gives way to a
// later one with CUDA compiled in. An explicit NSA_TOPK_BINARY that loads is always chosen. When
// the choice is CPU-only on such a host, the result says so, and so must the caller.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');

// The CUDA architectures of the prebuild (scripts/prebuild.js; NSA_TOPK_CUDA_ARCHS overrides), in
// CMake syntax: machine code (SASS) for each GPU class, and PTX of the newest, which the driver
// compiles for later GPUs. sm_80/86/89 have no thread-block clusters and sm_86/89/120 only 99 KB of
// shared memory per CTA: the dispatch picks kernels from each device's capabilities.
const PREBUILD_CUDA_ARCHS = '80-real;86-real;89-real;90-real;100-real;120-real;120';

/** Where a local build (cmake-js or node-gyp) puts the addon. */
function localBuildFile(root = ROOT) {
  return path.join(root, 'build', 'Release', 'nsa_topk.node');
}

/** Where the prebuild for this platform lives (the one name scripts/prebuild.js writes). */
function prebuildFile(root = ROOT) {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'nsa-topk.napi.node');
}

/** The candidate binaries, in order of precedence. */
function candidates(env = process.env, root = ROOT) {
  return [
    ...(env.NSA_TOPK_BINARY ? [{ source: 'NSA_TOPK_BINARY', path: path.resolve(env.NSA_TOPK_BINARY) }] : []),
    { source: 'local build', path: localBuildFile(root) },
    { source: 'prebuild', path: prebuildFile(root) },
  ];
}

/** Linux's mark of a loaded NVIDIA kernel driver: a GPU is likely there, whatever the binary can do. */
function hasNvidiaDriver() {
  return fs.existsSync('/proc/driver/nvidia/version');
}

/**
 * Tries `list` in order with `probe(file)`, which loads a binary and returns its buildInfo() (at
 * least `{ cuda }`) or throws. Returns the chosen candidate with its build info (none when nothing
 * loads), why each one before it was not chosen, and whether the choice is a CPU-only binary on a
 * host with an NVIDIA driver.
 */
function choose(list, probe, gpuHost = hasNvidiaDriver()) {
  const tried = [];
  let cpuOnly;  // the first CPU-only binary that loaded on a GPU host, and how many were tried before it
  for (const candidate of list) {
    let build;
    try {
      if (!fs.existsSync(candidate.path)) throw new Error('no such file');
      build = probe(candidate.path);
    } catch (err) {
      tried.push({ ...candidate, why: String(err && err.message).split('\n')[0] });
      continue;
    }
    const loaded = { ...candidate, build };
    if (build.cuda || !gpuHost || candidate.source === 'NSA_TOPK_BINARY') {
      return { chosen: loaded, tried, cpuOnlyOnGpuHost: gpuHost && !build.cuda };
    }
    cpuOnly ??= { loaded, before: tried.length };
    tried.push({ ...candidate, why: 'no CUDA compiled in, and this host has an NVIDIA driver' });
  }
  if (!cpuOnly) return { tried, cpuOnlyOnGpuHost: false };
  return { chosen: cpuOnly.loaded, tried: tried.slice(0, cpuOnly.before), cpuOnlyOnGpuHost: true };
}

/** A probe for the scripts: loads the binary in a child process (a crash there is only a failed probe). */
function probeInChild(file) {
  const r = spawnSync(process.execPath, ['-e', `
    try { process.stdout.write(JSON.stringify(require(process.argv[1]).buildInfo())); }
    catch (err) { process.stderr.write(String(err.message)); process.exit(1); }
  `, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr.trim() || `the child process ended with ${r.signal ?? `exit code ${r.status}`}`);
  return JSON.parse(r.stdout);
}

/** The note for a CPU-only binary on a host with an NVIDIA driver, one wording for every caller. */
const CPU_ONLY_ON_GPU_HOST = 'this binary has no CUDA, but this host has an NVIDIA driver; rebuild it where nvcc is ' +
  '(npm rebuild nsa-topk) or install a CUDA prebuild to use the GPU';

module.exports = {
  CPU_ONLY_ON_GPU_HOST, PREBUILD_CUDA_ARCHS, candidates, choose, hasNvidiaDriver, localBuildFile, prebuildFile, probeInChild,
};
