#!/usr/bin/env node
// `npm run build:prebuild`: the CUDA prebuild, prebuilds/<platform>-<arch>/nsa-topk.napi.node, the
// last candidate in scripts/binaries.js's order (lib/loader.ts, scripts/install.js).
//
// It is the cmake-js build of CMakeLists.txt (not prebuildify, which only drives node-gyp and so
// would build binding.gyp's CPU-only addon), configured in its own build directory, build-prebuild/,
// so it never touches a local build in build/Release. The CUDA runtime is linked statically
// (CMakeLists.txt), so the binary loads, and runs the CPU backend, on machines without a GPU.
//
//   NSA_TOPK_CUDA_ARCHS   CUDA_ARCHITECTURES of the kernels, CMake syntax: "NN-real" is SASS only,
//                         "NN" is SASS plus PTX (for later GPUs through the driver's JIT).
//                         Default: PREBUILD_CUDA_ARCHS (scripts/binaries.js), SASS for sm_80, 86,
//                         89, 90, 100 and 120 and PTX for compute_120. One binary serves them all:
//                         cluster kernels are compiled for sm_90 and later only, and the dispatch
//                         picks kernels from each device's clusters and shared memory per CTA.
//   NSA_TOPK_PREBUILD_OUT  build directory (default build-prebuild)
//   CUDAFLAGS             extra nvcc flags; nvcc compiles the architectures on every core
//                         (--threads=0) unless they set --threads.
//
// It fails when nvcc is missing (a CPU-only prebuild would shadow a CUDA build on GPU hosts), and
// checks that the copied binary loads and has CUDA compiled in.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const { PREBUILD_CUDA_ARCHS, prebuildFile, probeInChild } = require('./binaries');

const root = path.join(__dirname, '..');

function log(message) {
  console.log(`nsa-topk prebuild: ${message}`);
}

function fail(message) {
  console.error(`nsa-topk prebuild: ${message}`);
  process.exit(1);
}

function cudaFlags(flags) {
  return /(^|\s)(--threads|-t)\b/.test(flags) ? flags : [flags, '--threads=0'].filter(Boolean).join(' ');
}

function main() {
  const archs = process.env.NSA_TOPK_CUDA_ARCHS || PREBUILD_CUDA_ARCHS;
  if (!/^[0-9a-z;\-]+$/.test(archs)) fail(`NSA_TOPK_CUDA_ARCHS="${archs}" is not a CMake list of architectures.`);
  const out = path.resolve(root, process.env.NSA_TOPK_PREBUILD_OUT || 'build-prebuild');
  if (path.resolve(out) === path.join(root, 'build')) fail('NSA_TOPK_PREBUILD_OUT must not be build/ (the local build).');
  const started = Date.now();
  log(`building CUDA archs ${archs} in ${path.relative(root, out)}/ with cmake-js.`);
  const result = spawnSync(process.execPath, [
    // rebuild: a clean configure and build (compile would skip configuring, and so these options,
    // in an already configured directory).
    require.resolve('cmake-js/bin/cmake-js'), 'rebuild',
    '--out', out,
    '--CDNSA_TOPK_CUDA=ON',
    `--CDNSA_TOPK_CUDA_ARCHS=${archs}`,
    // nvcc compiles the architectures in parallel (one thread per core) unless CUDAFLAGS sets
    // --threads itself (a shared build machine); CUDAFLAGS is kept.
    `--CDCMAKE_CUDA_FLAGS=${cudaFlags(process.env.CUDAFLAGS || '')}`,
  ], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('cmake-js rebuild failed (output above).');

  const built = path.join(out, 'Release', 'nsa_topk.node');
  if (!fs.existsSync(built)) fail(`${built} was not built.`);
  const dest = prebuildFile();
  const dir = path.dirname(dest);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(built, dest);
  if (process.platform === 'linux') {
    // Host symbols and debug info only: the kernels are in the fatbin section, which strip keeps.
    const strip = spawnSync('strip', ['--strip-unneeded', dest], { stdio: 'inherit' });
    if (strip.error || strip.status !== 0) log('strip failed or is missing; the binary is left unstripped.');
  }

  // Load it in a child process (never this one's require cache) and read its build info.
  let build;
  try {
    build = probeInChild(dest);
  } catch (err) {
    fail(`the prebuild does not load: ${err.message}`);
  }
  if (!build.cuda) {
    fs.rmSync(dir, { recursive: true, force: true });
    fail('the build has no CUDA compiled in (was nvcc found? the cmake output above says); prebuild removed.');
  }
  const mb = (fs.statSync(dest).size / 2 ** 20).toFixed(1);
  log(`wrote ${path.relative(root, dest)} (${mb} MiB, ${((Date.now() - started) / 1000).toFixed(0)} s): ` +
      Object.entries(build).map(([k, v]) => `${k}=${v}`).join(', '));
}

main();
