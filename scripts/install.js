#!/usr/bin/env node
// The package's `install` script. In order:
//   1. NSA_TOPK_SKIP_BUILD=1: do nothing (CI images that build later, or bring their own binary).
//   2. NSA_TOPK_CUDA_ARCHS set: a local build of those architectures (step 4), whatever else loads.
//   3. What the loader would choose (scripts/binaries.js: NSA_TOPK_BINARY, the local build, the
//      prebuild, each loaded in a child process first): NSA_TOPK_BINARY, or a prebuild that has
//      CUDA or sits on a host without an NVIDIA driver, is used as it is and nothing is built. A
//      local build is brought up to date (it goes before the prebuild); anything else is built.
//   4. cmake-js: the real build, with CUDA when nvcc is found (NSA_TOPK_CUDA=0: CPU only;
//      NSA_TOPK_CUDA_ARCHS="90;100" picks the CUDA architectures, CMake syntax, default 90).
//   5. No cmake: node-gyp rebuild, the CPU-only build of binding.gyp.
// It always says which of these it did, and says so when the result is CPU-only on a GPU host.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const { CPU_ONLY_ON_GPU_HOST, candidates, choose, localBuildFile, probeInChild } = require('./binaries');

const root = path.join(__dirname, '..');

function log(message) {
  console.log(`nsa-topk: ${message}`);
}

function fail(message) {
  console.error(`nsa-topk: ${message}`);
  process.exit(1);
}

function hasCmake() {
  return !spawnSync('cmake', ['--version'], { stdio: 'ignore' }).error;
}

function run(file, args) {
  const result = spawnSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

// npm hands lifecycle scripts the path of its own node-gyp; a dev checkout has one in node_modules.
function nodeGypPath() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

// Headers of the running Node where it has them (distro packages, official tarballs), so node-gyp
// needs no download; npm passes its own `nodedir` setting through the environment instead.
function nodeGypArgs() {
  const prefix = path.join(path.dirname(process.execPath), '..');  // <prefix>/bin/node
  const local = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'));
  return ['rebuild', ...(!process.env.npm_config_nodedir && local ? [`--nodedir=${prefix}`] : [])];
}

// Why a build is needed; undefined, after saying which binary the loader will use, when none is.
function reasonToBuild() {
  const archs = process.env.NSA_TOPK_CUDA_ARCHS;
  if (archs) return `NSA_TOPK_CUDA_ARCHS=${archs} asks for a local build`;
  const { chosen, tried, cpuOnlyOnGpuHost } = choose(candidates(), probeInChild);
  const passed = tried.map((t) => `${t.source}: ${t.why}`).join('; ');
  if (!chosen) return `no binary loads here (${passed})`;
  if (chosen.source === 'local build') return 'the local build goes before any prebuild, so it is brought up to date';
  if (cpuOnlyOnGpuHost && chosen.source === 'prebuild') return 'the prebuild has no CUDA and this host has an NVIDIA driver';
  log(`using ${chosen.source} ${chosen.path}, which loads; nothing to build.`);
  if (cpuOnlyOnGpuHost) log(`note: ${CPU_ONLY_ON_GPU_HOST}`);
  return undefined;
}

// What an earlier configure left in build/CMakeCache.txt, which a plain `cmake-js compile` keeps.
function cachedSettings() {
  let text;
  try {
    text = fs.readFileSync(path.join(root, 'build', 'CMakeCache.txt'), 'utf8');
  } catch {
    return [];
  }
  return ['NSA_TOPK_CUDA', 'NSA_TOPK_CUDA_ARCHS'].flatMap((name) => {
    const m = new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm').exec(text);
    return m ? [`${name}=${m[1]}`] : [];
  });
}

function buildWithCmake() {
  const cpuOnly = process.env.NSA_TOPK_CUDA === '0';
  const archs = process.env.NSA_TOPK_CUDA_ARCHS || undefined;  // empty = unset
  if (archs && !/^[0-9a-z;\-]+$/.test(archs)) {
    fail(`NSA_TOPK_CUDA_ARCHS="${archs}" is not a CMake list of CUDA architectures (e.g. "90;100" or "90-real;120").`);
  }
  const note = cpuOnly ? ' (NSA_TOPK_CUDA=0: CPU only)' : archs ? ` (NSA_TOPK_CUDA_ARCHS=${archs})` : '';
  log(`building with cmake-js${note}.`);
  // Architectures ask for CUDA too: an earlier NSA_TOPK_CUDA=0 stays in the cache otherwise.
  const defs = cpuOnly ? ['--CDNSA_TOPK_CUDA=OFF'] : archs ? ['--CDNSA_TOPK_CUDA=ON', `--CDNSA_TOPK_CUDA_ARCHS=${archs}`] : [];
  const cached = defs.length ? [] : cachedSettings();
  if (cached.length) {
    log(`build/ keeps ${cached.join(', ')} from its last configure; NSA_TOPK_CUDA_ARCHS or NSA_TOPK_CUDA=0 ` +
        'changes them, and removing build/ returns to the defaults.');
  }
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  // `cmake-js compile` only builds when build/ is already configured, ignoring --CD options:
  // with options, configure first (updating the cache), then build.
  const ok = defs.length ? run(cmakeJs, ['configure', ...defs]) && run(cmakeJs, ['build']) : run(cmakeJs, ['compile']);
  if (!ok) fail('cmake-js failed (output above). NSA_TOPK_CUDA=0 builds the CPU backend only.');
  log('built build/Release/nsa_topk.node with cmake-js.');
}

function buildWithNodeGyp() {
  log('cmake was not found: building the CPU-only addon with node-gyp.');
  log('install cmake (and the CUDA toolkit) and reinstall to get the CUDA backends.');
  const nodeGyp = nodeGypPath();
  if (!nodeGyp) fail('node-gyp was not found either: install cmake, or run `npx node-gyp rebuild`.');
  if (!run(nodeGyp, nodeGypArgs())) fail('node-gyp rebuild failed (output above).');
  log('built build/Release/nsa_topk.node with node-gyp (CPU backend only).');
}

function main() {
  if (process.env.NSA_TOPK_SKIP_BUILD === '1') {
    log('NSA_TOPK_SKIP_BUILD=1: not building the native addon.');
    return;
  }
  const reason = reasonToBuild();
  if (!reason) return;
  log(`${reason}.`);
  if (hasCmake()) buildWithCmake();
  else buildWithNodeGyp();
  // Check that the build loads, then say what the loader takes now, by the same choice (a prebuild
  // with CUDA still goes before a CPU-only build on a GPU host).
  try {
    probeInChild(localBuildFile());
  } catch (err) {
    fail(`the built build/Release/nsa_topk.node does not load: ${err.message}`);
  }
  const { chosen, cpuOnlyOnGpuHost } = choose(candidates(), probeInChild);
  log(`the loader takes ${chosen.source} ${chosen.path}.`);
  if (cpuOnlyOnGpuHost && process.env.NSA_TOPK_CUDA !== '0') log(`note: ${CPU_ONLY_ON_GPU_HOST}`);
}

main();
