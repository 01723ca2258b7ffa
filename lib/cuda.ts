// CUDA availability, asked once: whether the addon has CUDA, which devices exist, or why none.
import type { NativeAddon, NativeCudaStatus, NativeDeviceInfo } from './native';
import { loadNative } from './loader';
import { invalidArgument } from './errors';
import { cudaUnavailable } from './options';

export type CudaStatus = NativeCudaStatus;
export type CudaDeviceInfo = NativeDeviceInfo;

let status: NativeCudaStatus | undefined;

/** Whether CUDA is compiled in and usable, the devices found, or the reason why not. */
export function cudaStatus(): CudaStatus {
  status ??= loadNative().cudaStatus();
  return status;
}

type CudaMember = 'DeviceBuffer' | 'Stream' | 'TopKOp' | 'Graph' | 'Event' | 'cudaTopk' | 'cudaTopkAsync' | 'readProbe' | 'hold';

/**
 * A CUDA-only member of the addon, or ERR_NSA_TOPK_CUDA_UNAVAILABLE with the reason: CPU-only
 * builds lack these members, and a CUDA build on a machine without a usable device cannot use them.
 */
export function requireCuda<K extends CudaMember>(member: K, what: string): NonNullable<NativeAddon[K]> {
  const value = loadNative()[member];
  const s = cudaStatus();
  if (value === undefined || !s.usable) throw cudaUnavailable(what, s);
  return value as NonNullable<NativeAddon[K]>;
}

/**
 * `device` (an integer >= 0 the caller checked) when CUDA sees such a device; otherwise
 * ERR_NSA_TOPK_INVALID_ARGUMENT naming `name`, before CUDA is asked to select it.
 */
export function checkDevice(name: string, device: number): number {
  const count = cudaStatus().devices.length;
  if (device >= count) throw invalidArgument(name, `a device ordinal below ${count} (the CUDA devices found)`, device);
  return device;
}
