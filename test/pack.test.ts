// The package as npm publishes it: `npm pack` (which runs `prepare`, so dist/ is current), installed
// into a fresh project with install scripts disabled (npm's --ignore-scripts, or allowScripts), then
// `nsa-topk verify` there. The install is offline and needs nothing in npm's cache: the runtime
// dependencies come from the lockfile's production tree, copied from this checkout's node_modules
// with their bin links, so npm resolves the tarball's own dependency ranges against them and
// fetches nothing.
//
// A tarball with a prebuild for this platform (a release) must load it and verify. One without
// (any checkout that did not run `npm run build:prebuild`) leaves the user no binary: the CLI must
// say so and what to do; then the same tarball with this checkout's local build added as its
// prebuild must load that and verify.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { localBuildFile, prebuildFile } from '../scripts/binaries';
import { PACKAGE_ROOT } from '../lib/loader';

jest.setTimeout(300_000);

interface Run { status: number | null; stdout: string; stderr: string }

// npm's cache for every npm command here: an empty one of the test's own, so that registry metadata
// another run left in the user's cache cannot hide a fetch (the GPU machine has neither cache nor
// network).
const npmCache = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-npm-cache-'));
afterAll(() => fs.rmSync(npmCache, { recursive: true, force: true }));

/**
 * Runs a command with the test's empty npm cache; NSA_TOPK_BINARY is dropped so that only the
 * installed package's own binaries count.
 */
function run(cwd: string, command: string, ...args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_cache: npmCache };
  delete env.NSA_TOPK_BINARY;
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** `npm pack` of `dir` into `dest`; the tarball's path and size. */
function pack(dir: string, dest: string, ...flags: string[]): { file: string; size: number; files: string[] } {
  const [info] = JSON.parse(ok(run(dir, 'npm', 'pack', '--json', '--pack-destination', dest, ...flags)).stdout) as
    { filename: string; size: number; files: { path: string }[] }[];
  return { file: path.join(dest, info.filename), size: info.size, files: info.files.map((f) => f.path) };
}

/**
 * A fresh project holding the lockfile's production tree (nsa-topk's runtime dependencies), with
 * their bin links as npm makes them. Without the links npm counts a package as changed (arborist's
 * diff: a bin path that does not exist) and fetches it again from the registry, which an empty cache
 * and --offline refuse (ENOTCACHED for `which`, whose bin is node-which).
 */
function makeProject(dir: string): void {
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'nsa-topk-pack-test', private: true }));
  const lock = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package-lock.json'), 'utf8')) as
    { packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean; bin?: Record<string, string> }> };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where || entry.dev || entry.devOptional) continue;
    const from = path.join(PACKAGE_ROOT, where);
    if (entry.optional && !fs.existsSync(from)) continue;  // another platform's optional package
    const to = path.join(dir, where);
    fs.cpSync(from, to, { recursive: true });
    // <the node_modules holding the package>/.bin/<name> -> the bin file, relative, as npm links it.
    const binDir = path.join(dir, where.slice(0, where.lastIndexOf('node_modules/') + 'node_modules'.length), '.bin');
    for (const [name, file] of Object.entries(entry.bin ?? {})) {
      fs.mkdirSync(binDir, { recursive: true });
      fs.symlinkSync(path.relative(binDir, path.join(to, file)), path.join(binDir, name));
    }
  }
}

function install(project: string, tarball: string): void {
  ok(run(project, 'npm', 'install', '--ignore-scripts', '--offline', '--no-package-lock', '--no-audit', '--no-fund', tarball));
}

/** `nsa-topk info --json` and `nsa-topk verify` through the installed package's bin link. */
function cliOf(project: string): { info: () => { binary?: { source: string } }; verify: () => Run } {
  const bin = path.join(project, 'node_modules', '.bin', 'nsa-topk');
  return {
    info: () => JSON.parse(run(project, bin, 'info', '--json').stdout) as { binary?: { source: string } },
    verify: () => run(project, bin, 'verify'),
  };
}

test('the packed tarball, installed with scripts disabled, loads its prebuild and verifies', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-pack-'));
  try {
    const started = Date.now();
    const tarball = pack(PACKAGE_ROOT, tmp);
    const project = path.join(tmp, 'app');
    makeProject(project);
    install(project, tarball.file);
    const cli = cliOf(project);
    const prebuild = path.relative(PACKAGE_ROOT, prebuildFile());
    let tested = tarball;
    if (!tarball.files.includes(prebuild)) {
      const none = cli.verify();
      expect(none.status).toBe(1);
      expect(none.stderr).toContain(`No binary is installed: this package has no prebuild for ${process.platform}-${process.arch}`);
      expect(none.stderr).toContain('npm rebuild nsa-topk');
      // The same package with this checkout's build as its prebuild, as a release would ship it.
      const stage = path.join(tmp, 'stage');
      fs.mkdirSync(stage);
      ok(run(stage, 'tar', '-xzf', tarball.file));
      const staged = prebuildFile(path.join(stage, 'package'));
      fs.mkdirSync(path.dirname(staged), { recursive: true });
      fs.copyFileSync(localBuildFile(), staged);
      fs.rmSync(tarball.file);
      tested = pack(path.join(stage, 'package'), tmp, '--ignore-scripts');
      expect(tested.files).toContain(prebuild);
      install(project, tested.file);
    }
    expect(cli.info().binary?.source).toBe('prebuild');
    const verify = cli.verify();
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/verify: \d+ passed, 0 failed/);
    console.log(`pack test: tarball ${(tarball.size / 1024).toFixed(0)} KiB as packed (${tarball.files.length} files)` +
      `${tested === tarball ? '' : `, ${(tested.size / 2 ** 20).toFixed(1)} MiB with this checkout's build as its prebuild`}; ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
