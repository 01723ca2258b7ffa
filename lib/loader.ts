// Finds and loads the native addon through scripts/binaries.js, the order of precedence the
// install script uses too: NSA_TOPK_BINARY, the local build, the prebuild, each loaded (in this
// process) before it is chosen. A CPU-only binary chosen on a host with an NVIDIA driver is
// reported by a process warning. When nothing loads, one error lists every path tried with its
// error and what to do.
import * as path from 'path';
import { BinarySource, CPU_ONLY_ON_GPU_HOST, candidates, choose } from '../scripts/binaries';
import type { NativeAddon } from './native';
import { ErrorCodes, NsaTopkError } from './errors';

/** The package root: lib/ (ts-jest) and dist/ (compiled) both sit one level below it. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

interface Loaded {
  addon: NativeAddon;
  path: string;
  source: BinarySource;
  /** Candidates passed over before this one, with why. */
  tried: string[];
}

let loaded: Loaded | undefined;

/** The addon, loaded and initialized once per module instance. */
export function loadNative(): NativeAddon {
  if (loaded) return loaded.addon;
  const addons = new Map<string, NativeAddon>();
  const { chosen, tried, cpuOnlyOnGpuHost } = choose(candidates(), (file) => {
    const addon = require(file) as NativeAddon;
    addons.set(file, addon);
    return addon.buildInfo();
  });
  const lines = tried.map((t) => `${t.source}: ${t.path}: ${t.why}`);
  if (!chosen) {
    // Nothing on disk at all is the install with scripts disabled and no prebuild for this platform.
    const none = tried.every((t) => t.why === 'no such file');
    throw new NsaTopkError(
      [
        'Could not load the nsa-topk native addon. Tried:',
        ...lines.map((l) => `  ${l}`),
        ...(none ? [`No binary is installed: this package has no prebuild for ${process.platform}-${process.arch}, and none was ` +
          'built here (install scripts disabled, or NSA_TOPK_SKIP_BUILD=1?).'] : []),
        'Run `npm rebuild nsa-topk` to build it (needs cmake, and the CUDA toolkit for the GPU backends;',
        'without cmake, node-gyp builds the CPU backend only), or set NSA_TOPK_BINARY to the path of a built nsa_topk.node.',
      ].join('\n'),
      ErrorCodes.LoadFailed,
    );
  }
  const addon = addons.get(chosen.path)!;
  addon.init(NsaTopkError as unknown as new (message: string, code: string) => Error);
  loaded = { addon, path: chosen.path, source: chosen.source, tried: lines };
  if (cpuOnlyOnGpuHost) process.emitWarning(`nsa-topk: ${chosen.path} (${chosen.source}): ${CPU_ONLY_ON_GPU_HOST}`, { code: 'NSA_TOPK_CPU_ONLY' });
  return addon;
}

/** Which binary was loaded, why, and what was passed over (for `nsa-topk info`); undefined before the first load. */
export function loadedBinary(): { path: string; source: string; tried: string[] } | undefined {
  return loaded && { path: loaded.path, source: loaded.source, tried: loaded.tried };
}
