// Finds and loads the native addon, trying in order: the NSA_TOPK_BINARY path, the local build
// (build/Release/nsa_topk.node under the package root, whatever the cwd), then node-gyp-build's
// prebuilds/. When all fail, one error lists every path tried with its error and what to do.
import * as fs from 'fs';
import * as path from 'path';
import type { NativeAddon } from './native';
import { ErrorCodes, NsaTopkError } from './errors';

/** The package root: lib/ (ts-jest) and dist/ (compiled) both sit one level below it. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

interface Loaded {
  addon: NativeAddon;
  path: string;
  source: 'NSA_TOPK_BINARY' | 'local build' | 'prebuild';
}

let loaded: Loaded | undefined;

function prebuildPath(): string {
  // node-gyp-build ships no types; `path` resolves without loading.
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  return nodeGypBuild.path(PACKAGE_ROOT);
}

function candidates(): { source: Loaded['source']; path: () => string }[] {
  const list: { source: Loaded['source']; path: () => string }[] = [];
  const explicit = process.env.NSA_TOPK_BINARY;
  if (explicit) list.push({ source: 'NSA_TOPK_BINARY', path: () => path.resolve(explicit) });
  list.push({ source: 'local build', path: () => path.join(PACKAGE_ROOT, 'build', 'Release', 'nsa_topk.node') });
  list.push({ source: 'prebuild', path: prebuildPath });
  return list;
}

/** The addon, loaded and initialized once per module instance. */
export function loadNative(): NativeAddon {
  if (loaded) return loaded.addon;
  const failures: string[] = [];
  for (const candidate of candidates()) {
    let file = `(${candidate.source})`;
    try {
      file = candidate.path();
      if (!fs.existsSync(file)) throw new Error('no such file');
      const addon = require(file) as NativeAddon;
      addon.init(NsaTopkError as unknown as new (message: string, code: string) => Error);
      loaded = { addon, path: file, source: candidate.source };
      return addon;
    } catch (err) {
      failures.push(`  ${candidate.source}: ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new NsaTopkError(
    [
      'Could not load the nsa-topk native addon. Tried:',
      ...failures,
      'Run `npm rebuild nsa-topk` to build it (needs cmake, or node-gyp for a CPU-only build),',
      'or set NSA_TOPK_BINARY to the path of a built nsa_topk.node.',
    ].join('\n'),
    ErrorCodes.LoadFailed,
  );
}

/** Which binary was loaded and why (for `nsa-topk info`); undefined before the first load. */
export function loadedBinary(): { path: string; source: string } | undefined {
  return loaded && { path: loaded.path, source: loaded.source };
}
