#!/usr/bin/env node
// The package's `install` script. In order:
//   1. NSA_TOPK_SKIP_BUILD=1: do nothing (CI images that build later, or bring their own binary).
//   2. A prebuilt binary in prebuilds/ that loads here: use it, build nothing (not tried when
//      NSA_TOPK_CUDA_ARCHS asks for a local build of given architectures).
//   3. cmake-js compile: the real build, with CUDA when nvcc is found (NSA_TOPK_CUDA=0: CPU only;
//      NSA_TOPK_CUDA_ARCHS="90;100" picks the CUDA architectures, CMake syntax, default 90).
//   4. No cmake: node-gyp rebuild, the CPU-only build of binding.gyp.
// It always says which of these it did.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

function log(message) {
  console.log(`nsa-topk: ${message}`);
}

function fail(message) {
  console.error(`nsa-topk: ${message}`);
  process.exit(1);
}

// The prebuild node-gyp-build would pick for this platform, arch and Node-API version, if it loads.
function loadablePrebuild() {
  process.env.PREBUILDS_ONLY = '1';  // read by node-gyp-build when required: skip build/
  try {
    const file = require('node-gyp-build').path(root);
    require(file);
    return file;
  } catch {
    return null;
  }
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

function main() {
  if (process.env.NSA_TOPK_SKIP_BUILD === '1') {
    log('NSA_TOPK_SKIP_BUILD=1: not building the native addon.');
    return;
  }
  // Asking for architectures asks for a local build: a prebuild is not tried then.
  const prebuild = process.env.NSA_TOPK_CUDA_ARCHS ? undefined : loadablePrebuild();
  if (prebuild) {
    log(`using the prebuilt binary ${path.relative(root, prebuild)}; nothing to build.`);
    return;
  }
  if (hasCmake()) {
    const cpuOnly = process.env.NSA_TOPK_CUDA === '0';
    const archs = process.env.NSA_TOPK_CUDA_ARCHS || undefined;  // empty = unset
    if (archs && !/^[0-9a-z;\-]+$/.test(archs)) {
      fail(`NSA_TOPK_CUDA_ARCHS="${archs}" is not a CMake list of CUDA architectures (e.g. "90;100" or "90-real;120").`);
    }
    const note = cpuOnly ? ' (NSA_TOPK_CUDA=0: CPU only)' : archs ? ` (NSA_TOPK_CUDA_ARCHS=${archs})` : '';
    log(`no prebuilt binary fits; building with cmake-js${note}.`);
    const defs = [...(cpuOnly ? ['--CDNSA_TOPK_CUDA=OFF'] : []),
                  ...(archs && !cpuOnly ? [`--CDNSA_TOPK_CUDA_ARCHS=${archs}`] : [])];
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    // `cmake-js compile` only builds when build/ is already configured, ignoring --CD options:
    // with options, configure first (updating the cache), then build.
    const ok = defs.length ? run(cmakeJs, ['configure', ...defs]) && run(cmakeJs, ['build']) : run(cmakeJs, ['compile']);
    if (!ok) fail('cmake-js failed (output above). NSA_TOPK_CUDA=0 builds the CPU backend only.');
    log('built build/Release/nsa_topk.node with cmake-js.');
    return;
  }
  log('no prebuilt binary fits and cmake was not found: building the CPU-only addon with node-gyp.');
  log('install cmake (and the CUDA toolkit) and reinstall to get the CUDA backends.');
  const nodeGyp = nodeGypPath();
  if (!nodeGyp) fail('node-gyp was not found either: install cmake, or run `npx node-gyp rebuild`.');
  if (!run(nodeGyp, nodeGypArgs())) fail('node-gyp rebuild failed (output above).');
  log('built build/Release/nsa_topk.node with node-gyp (CPU backend only).');
}

main();
