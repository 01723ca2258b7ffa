// `nsa-topk info`: what is installed and what it can use.
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { CPU_ONLY_ON_GPU_HOST, hasNvidiaDriver } from '../../scripts/binaries';
import { MIN_CUDA_ARCH, coverage, describeArchs, parseCudaArchs } from '../archs';
import { cudaStatus } from '../cuda';
import { PACKAGE_ROOT, loadNative, loadedBinary } from '../loader';
import type { NativeDeviceCaps } from '../native';
import { OPTION_SOURCES } from '../options';

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Everything `info` reports; a load failure is reported, not thrown. */
export function collectInfo(): Record<string, unknown> {
  const info: Record<string, unknown> = { version: packageVersion(), node: process.version, platform: `${process.platform}-${process.arch}` };
  try {
    const native = loadNative();
    info.binary = loadedBinary();
    info.build = native.buildInfo();
    const cuda = cudaStatus();
    info.cuda = cuda;
    const archs = parseCudaArchs(native.buildInfo().cudaArchs);
    info.coverage = cuda.devices.map((d) => ({ ordinal: d.ordinal, computeCapability: d.computeCapability, ...coverage(archs, d.computeCapability) }));
    // What the path choice knows of each device (its clusters' occupancy), or why it can't tell.
    if (cuda.usable && native.deviceCaps) {
      info.deviceCaps = cuda.devices.map((d) => {
        try { return native.deviceCaps!(d.ordinal); } catch (err) { return { error: (err as Error).message }; }
      });
    }
    info.tuning = native.tuning();
  } catch (err) {
    info.loadError = (err as Error).message;
  }
  info.options = OPTION_SOURCES;
  return info;
}

function printInfo(info: Record<string, unknown>): void {
  const out: string[] = [`nsa-topk ${info.version} (node ${info.node}, ${info.platform})`];
  if (info.loadError) {
    out.push(`binary: not loaded\n${info.loadError}`);
    process.stdout.write(`${out.join('\n')}\n`);
    return;
  }
  const binary = info.binary as NonNullable<ReturnType<typeof loadedBinary>>;
  const build = info.build as Record<string, unknown>;
  const cuda = info.cuda as ReturnType<typeof cudaStatus>;
  out.push(`binary: ${binary.path} (${binary.source})`);
  for (const t of binary.tried) out.push(`  passed over: ${t}`);
  out.push(`build: ${Object.entries(build).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  out.push(`cuda compiled in: ${cuda.compiled ? 'yes' : 'no'}`);
  const archs = parseCudaArchs(String(build.cudaArchs ?? ''));
  if (cuda.compiled) out.push(`cuda architectures: ${describeArchs(archs) || 'none listed'}`);
  else if (hasNvidiaDriver()) out.push(`note: ${CPU_ONLY_ON_GPU_HOST}`);
  if (cuda.runtimeVersion !== undefined) out.push(`cuda runtime: ${cuda.runtimeVersion}, driver: ${cuda.driverVersion ?? 'none'}`);
  if (cuda.devices.length === 0) out.push(`devices: none (${cuda.reason ?? 'no usable CUDA device'})`);
  for (const [i, d] of cuda.devices.entries()) {
    out.push(`device ${d.ordinal}: ${d.name}, sm_${d.computeCapability.replace('.', '')}, ${d.multiProcessors} SMs, ` +
      `${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, L2 ${(d.l2CacheBytes / 2 ** 20).toFixed(0)} MiB, ` +
      `smem/block ${d.maxSharedMemoryPerBlockOptin / 1024} KiB, clusters ${d.clusterLaunch ? 'yes' : 'no'}`);
    const caps = (info.deviceCaps as (NativeDeviceCaps & { error?: string })[] | undefined)?.[i];
    if (caps?.error) out.push(`  path choice: not queried (${caps.error})`);
    else if (d.clusterLaunch && caps?.clustersAtOnce) out.push(`  clusters at once, a CTA an SM: ${caps.clustersAtOnce.map((n, j) => `${n} of ${1 << j}`).join(', ')}`);
    const c = coverage(archs, d.computeCapability);
    const sm = d.computeCapability.replace('.', '');
    out.push(c.how === 'sass' ? `  covered: natively (${c.by})`
      : c.how === 'ptx' ? `  covered: through PTX (${c.by}, compiled by the driver at first load; NSA_TOPK_CUDA_ARCHS=${sm} builds it natively)`
        : Number(sm) < MIN_CUDA_ARCH ? `  NOT covered: the kernels need sm_${MIN_CUDA_ARCH} or later (the cpu backend runs here)`
          : `  NOT covered by this binary's architectures: rebuild with NSA_TOPK_CUDA_ARCHS=${sm} npm rebuild nsa-topk`);
  }
  if (!cuda.usable && cuda.devices.length > 0) out.push(`cuda not usable: ${cuda.reason}`);
  const tuning = Object.entries(info.tuning as Record<string, number>);
  out.push(tuning.length ? 'tuning:' : 'tuning: none (no CUDA)');
  for (const [k, v] of tuning) out.push(`  ${k} = ${v}`);
  out.push('options (flag / environment):');
  for (const [k, v] of Object.entries(OPTION_SOURCES)) out.push(`  ${k}: ${v.flag} / ${v.env}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

export function infoCommand(setExit: (code: number) => void): Command {
  return new Command('info')
    .description('show the package version, the loaded binary, its build, CUDA devices and tuning constants')
    .option('--json', 'print JSON instead of text')
    .action((opts: { json?: boolean }) => {
      const info = collectInfo();
      if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else printInfo(info);
      setExit(info.loadError ? 1 : 0);
    });
}
