// The radix backend's path choice (choose_path in csrc/cuda/dispatch.cu) for every GPU class the
// prebuild carries, through the addon's choosePath, which takes a device's capabilities and needs
// no GPU: clusters only where the device has them, every CTA within its opt-in shared memory, and
// the H200's choices as tuned (docs/kernel-notes.md). Skips with a CPU-only build.
import { loadNative } from '../lib/loader';
import { NativeDeviceCaps, NativePathChoice, NativePathKernel, NativeRadixPath } from '../lib/native';

const native = loadNative();
const describeCuda = native.choosePath ? describe : describe.skip;

// One device of each class; the SM counts are those of the parts named (only the H200's matters
// to a heuristic tuned on it).
const KB = 1024;
const H100_AT_ONCE = [132, 66, 30, 15, 7];  // session 57's H100 (nsa-topk info)
const GPUS: Record<string, NativeDeviceCaps> = {
  'sm_80 (A100)': { computeCapability: '8.0', multiProcessors: 108, maxSharedMemoryPerBlockOptin: 163 * KB, clusterLaunch: false },
  'sm_86 (A40)': { computeCapability: '8.6', multiProcessors: 84, maxSharedMemoryPerBlockOptin: 99 * KB, clusterLaunch: false },
  'sm_89 (L40S)': { computeCapability: '8.9', multiProcessors: 142, maxSharedMemoryPerBlockOptin: 99 * KB, clusterLaunch: false },
  'sm_90 (H200)': { computeCapability: '9.0', multiProcessors: 132, maxSharedMemoryPerBlockOptin: 227 * KB, clusterLaunch: true },
  // An H100 whose GPCs hold fewer clusters at once than its SMs over the cluster size (a cluster
  // runs within one GPC), as deviceCaps() describes one (counts vary from chip to chip).
  'sm_90 (H100)': { computeCapability: '9.0', multiProcessors: 132, maxSharedMemoryPerBlockOptin: 227 * KB, clusterLaunch: true, clustersAtOnce: H100_AT_ONCE },
  'sm_100 (B200)': { computeCapability: '10.0', multiProcessors: 148, maxSharedMemoryPerBlockOptin: 227 * KB, clusterLaunch: true },
  'sm_120 (RTX 5090)': { computeCapability: '12.0', multiProcessors: 170, maxSharedMemoryPerBlockOptin: 99 * KB, clusterLaunch: true },
};
const H200 = GPUS['sm_90 (H200)'];

function choose(device: NativeDeviceCaps, rows: number, maxLen: number, k: number, path = NativeRadixPath.Auto, sorted = false): NativePathChoice {
  return native.choosePath!(device, { rows, maxLen, k, sorted }, path);
}

/** "register 256", "register 512 x16", "batch", "chunked 8", "radix 8 cached", "radix 1 streaming", "none": the kernel and how its CTAs take a row. */
function summary(c: NativePathChoice): string {
  if (c.kernel === NativePathKernel.Chunked) return `chunked ${c.chunks}`;
  if (c.kernel === NativePathKernel.Radix) return `radix ${c.ctasPerRow} ${c.chunkCap > 0 ? 'cached' : 'streaming'}`;
  if (c.kernel === NativePathKernel.Register) return `register ${c.threads}${c.ctasPerRow > 1 ? ` x${c.ctasPerRow}` : ''}`;
  if (c.kernel === NativePathKernel.Spread) return `spread ${c.threads}`;
  return c.kernel === NativePathKernel.Batch ? 'batch' : 'none';
}

describeCuda('choosePath', () => {
  test('H200: the choices the kernels were tuned with', () => {
    const cases: [number, number, number, string][] = [
      // rows, maxLen, k, choice
      [1, 131072, 2048, 'radix 8 cached'],      // decode: 8-CTA clusters, 16384-element chunks cached
      [4, 131072, 2048, 'radix 8 cached'],
      [17, 131072, 2048, 'radix 4 cached'],     // 8 CTAs a row would need 136 SMs; 4 alone on theirs cache 32768
      [33, 131072, 2048, 'radix 4 cached'],     // 132 CTAs
      [34, 131072, 2048, 'spread 512'],         // 2 radix CTAs a row would stream chunks of 65536
      [57, 131072, 2048, 'spread 512'],
      [58, 131072, 2048, 'spread 512'],         // the chunked path's rows, but at most 16 x 132 spread chunks
      [131, 131072, 2048, 'spread 512'],        // 2096 chunks
      [58, 131072, 4096, 'chunked 4'],          // 4 x 58 x 4 >= 7 x 132: the batch kernel on chunks of 32768
      [132, 131072, 2048, 'batch'],             // the rows fill the SMs and are long
      [256, 131072, 4096, 'batch'],
      [256, 131072, 4097, 'radix 1 streaming'], // k above the batch policy's maximum
      [256, 32768, 2048, 'batch'],              // the small-k policy's minimum length
      [256, 32767, 2048, 'radix 1 streaming'],  // shorter than it
      [256, 32768, 2049, 'radix 1 streaming'],  // shorter than the large-k policy's minimum
      [132, 16384, 2048, 'radix 1 cached'],
      [132, 8192, 2048, 'register 256'],        // rows that fit registers
      [4096, 1, 1, 'register 256'],
      [131, 8192, 2048, 'register 512'],        // fewer rows than SMs too (decode): twice the threads a row
      [1, 8192, 512, 'register 512'],
      [1, 4096, 2048, 'register 512'],
      [132, 8193, 2048, 'radix 1 cached'],      // longer than the registers hold
      [1, 8193, 2048, 'radix 4 cached'],        // 4 chunks of 2049: none shorter than 2048
      [132, 8192, 2049, 'radix 1 cached'],      // k above the register policy's maximum
      [1, 16384, 512, 'radix 8 cached'],
      [1, 16383, 512, 'radix 4 cached'],        // 8 chunks would be shorter than 2048
      [8, 32768, 512, 'radix 8 cached'],
      [4, 131073, 2048, 'radix 8 cached'],      // an SM to each CTA: chunks of up to 32768 cached
      [3, 131073, 2048, 'spread 512'],          // up to 3 rows: the spread kernels
      [3, 131072, 2048, 'radix 8 cached'],
      [4, 262144, 2048, 'radix 8 cached'],
      [16, 262144, 2048, 'radix 8 cached'],     // 128 CTAs
      [17, 262144, 2048, 'spread 512'],         // 8 CTAs a row would need 136 SMs: the spread kernels
      [1, 262145, 2048, 'spread 512'],          // longer than 8 CTAs cache
      [14, 1 << 20, 2048, 'spread 512'],        // too few rows for 16 chunks
      [15, 1 << 20, 2048, 'spread 512'],        // 4 x 15 x 16 >= 7 x 132, but 1920 spread chunks
      [16, 1 << 20, 2048, 'spread 512'],        // 2048
      [17, 1 << 20, 2048, 'chunked 16'],        // 2176: the chunked path
      [16, 1 << 20, 4096, 'chunked 16'],        // k above the register policy's
      [29, 1 << 20, 2048, 'chunked 8'],
      [33, 1 << 20, 4096, 'chunked 8'],         // the large-k policy
      [28, 262144, 2048, 'spread 512'],         // 16 chunks would be shorter than 65536
      [29, 262144, 2048, 'spread 512'],         // 8 chunks too (slower than the spread kernels)
      [34, 262144, 2048, 'spread 512'],         // past a quarter of the SMs, where the radix kernel would stream
      [57, 262144, 2048, 'spread 512'],
      [57, 524287, 2048, 'spread 512'],         // 8 chunks would be shorter than 65536
      [33, 524288, 2048, 'spread 512'],         // 2112 spread chunks
      [34, 524288, 2048, 'chunked 8'],
      [57, 524288, 2048, 'chunked 8'],
      [34, 81920, 2048, 'radix 2 streaming'],   // no longer than the spread kernels' threshold there
      [34, 81921, 2048, 'spread 512'],
      [66, 131071, 2048, 'spread 512'],         // up to half the SMs: two radix CTAs a row
      [67, 131071, 2048, 'spread 512'],         // past it, one
      [131, 98304, 2048, 'spread 512'],
      [131, 81920, 2048, 'radix 1 streaming'],
      [131, 262145, 2048, 'chunked 4'],         // the chunked path first, up to the SMs
      [132, 262145, 2048, 'batch'],             // the batch kernel from the SM count
      [66, 262144, 2048, 'spread 512'],         // 2112 spread chunks
      [67, 262144, 2048, 'chunked 4'],          // 4 chunks of 65536
      [131, 1 << 20, 2048, 'chunked 4'],
      [33, 1 << 20, 4097, 'radix 4 streaming'], // k above the batch kernel's
      [1, 1 << 20, 4096, 'radix 8 streaming'],  // k above the register policy's
    ];
    for (const [rows, maxLen, k, want] of cases) expect([rows, maxLen, k, summary(choose(H200, rows, maxLen, k))]).toEqual([rows, maxLen, k, want]);
    // Sorted output, fewer rows than SMs: the register kernel on a cluster of up to 4 CTAs a row
    // (a chunk of 8192 scores in each CTA's registers, the k selections sorted on chip) where the
    // clusters fit one wave, the spread kernels for longer rows and from 16384 where no such
    // cluster fits, as the radix path would sort in three more kernels.
    const sorted: [number, number, number, string][] = [
      [1, 131072, 2048, 'spread 512'],          // 16-CTA clusters would hold it: slower
      [8, 131072, 2048, 'spread 512'],
      [9, 131072, 2048, 'spread 512'],
      [1, 32768, 2048, 'register 512 x4'],
      [1, 32769, 2048, 'spread 512'],
      [33, 32768, 2048, 'register 512 x4'],     // 132 CTAs
      [34, 16385, 2048, 'spread 512'],          // 4 CTAs a row would need 136 SMs
      [34, 16384, 2048, 'register 512 x2'],
      [66, 16384, 2048, 'register 512 x2'],
      [67, 16384, 2048, 'spread 512'],          // 2 CTAs a row would need 134 SMs
      [1, 8193, 2048, 'register 512 x2'],       // the fewest CTAs that hold maxLen, a power of two
      [8, 32768, 512, 'register 512 x4'],
      [64, 32768, 2048, 'spread 512'],
      [64, 131072, 2048, 'spread 512'],
      [34, 81920, 2048, 'spread 512'],
      [67, 262144, 2048, 'chunked 4'],          // 2144 spread chunks: the candidates' top-k sorts
      [1, 131073, 2048, 'spread 512'],
      [1, 131072, 4096, 'radix 8 cached'],      // k above the register policy's
      [132, 16384, 2048, 'radix 1 cached'],     // as many rows as SMs
      [1, 8192, 2048, 'register 512'],          // one CTA holds the row
    ];
    for (const [rows, maxLen, k, want] of sorted)
      expect([rows, maxLen, k, summary(choose(H200, rows, maxLen, k, NativeRadixPath.Auto, true))]).toEqual([rows, maxLen, k, want]);
    // The shapes too: 8 CTAs caching 16384 keys beside 1024 candidates; 2 CTAs with 8192
    // candidates (2k + 4096) each; the batch kernel's buffer and scratch plus its statics: 52 KB
    // (four CTAs per SM) up to k = 2048, 104 KB (two) above.
    expect(choose(H200, 1, 131072, 2048)).toMatchObject({ regionWords: 16384 + 4 + 2 * 1024, chunkCap: 16384, candCap: 1024 });
    // 8 CTAs alone on their SMs caching 32768 keys each: more than two CTAs' share of an SM.
    expect(choose(H200, 4, 262144, 2048)).toMatchObject({ regionWords: 32768 + 4 + 2 * 1024, chunkCap: 32768, candCap: 1024 });
    expect(choose(H200, 4, 262144, 2048).smemBytes).toBeGreaterThan(114 * KB);
    // A CTA that may share its SM caches 16384 keys at most: 133 rows of 16385 stream, where 132
    // rows, a CTA on each SM, cache them.
    expect(summary(choose(H200, 133, 16385, 2048))).toBe('radix 1 streaming');
    expect(summary(choose(H200, 132, 16385, 2048))).toBe('radix 1 cached');
    expect(choose(H200, 57, 81920, 2048)).toMatchObject({ regionWords: 2 * 8192, chunkCap: 0 });  // two streaming CTAs a row
    expect(choose(H200, 132, 131072, 2048).smemBytes).toBeGreaterThan(52 * KB);
    expect(4 * (choose(H200, 132, 131072, 2048).smemBytes + KB)).toBeLessThanOrEqual(228 * KB);
    expect(choose(H200, 132, 131072, 2049).smemBytes).toBeGreaterThan(104 * KB);
  });

  test('clusters that do not all fit at once give way to smaller ones, or to the spread kernels', () => {
    // On the H100 described (H100_AT_ONCE: 30 clusters of 4 CTAs, 15 of 8), a call whose clusters
    // would not all run at once takes the next smaller clusters (or the spread kernels, where the
    // radix path's would stream the row or its 8-CTA clusters no longer cache it); the H200 as
    // described (no occupancy known) keeps rows x CTAs <= SMs.
    const h100 = GPUS['sm_90 (H100)'];
    const at = H100_AT_ONCE;
    const cases: [number, number, boolean, string, string][] = [
      // rows, maxLen, sorted, H100, H200
      [at[3], 131072, false, 'radix 8 cached', 'radix 8 cached'],
      [at[3] + 1, 131072, false, 'radix 4 cached', 'radix 8 cached'],
      [16, 131072, false, 'radix 4 cached', 'radix 8 cached'],
      [at[3], 262144, false, 'radix 8 cached', 'radix 8 cached'],
      [at[3] + 1, 262144, false, 'spread 512', 'radix 8 cached'],
      [at[2], 131072, false, 'radix 4 cached', 'radix 4 cached'],
      [at[2] + 1, 131072, false, 'spread 512', 'radix 4 cached'],   // 2 CTAs a row would stream it
      [at[2] + 1, 81920, false, 'radix 2 streaming', 'radix 4 cached'],
      [at[2] + 1, 65536, false, 'radix 2 cached', 'radix 4 cached'],
      [at[2], 32768, true, 'register 512 x4', 'register 512 x4'],
      [at[2] + 1, 32768, true, 'spread 512', 'register 512 x4'],
    ];
    for (const [rows, maxLen, sorted, onH100, onH200] of cases) {
      const got = [summary(choose(h100, rows, maxLen, 2048, NativeRadixPath.Auto, sorted)), summary(choose(H200, rows, maxLen, 2048, NativeRadixPath.Auto, sorted))];
      expect([rows, maxLen, sorted, got]).toEqual([rows, maxLen, sorted, [onH100, onH200]]);
    }
    // Unknown counts (-1) are the SMs over the size, as an absent list; 0 says none fits.
    expect(choose({ ...h100, clustersAtOnce: [-1, -1, -1, -1, -1] }, 16, 131072, 2048)).toEqual(choose(H200, 16, 131072, 2048));
    expect(choose({ ...h100, clustersAtOnce: undefined }, 16, 131072, 2048)).toEqual(choose(H200, 16, 131072, 2048));
    expect(summary(choose({ ...h100, clustersAtOnce: [132, 66, 33, 0] }, 1, 131072, 2048))).toBe('radix 4 cached');
    expect(() => choose({ ...h100, clustersAtOnce: [1, 2, 3, 4, 5, 6] }, 1, 131072, 2048)).toThrow(/clustersAtOnce/);
    expect(() => choose({ ...h100, clustersAtOnce: [-2] }, 1, 131072, 2048)).toThrow(/clustersAtOnce/);
  });

  test('the length split: unsorted spread ops leave rows short on the device to the radix kernel', () => {
    // Rows of at most the spread path's threshold on the device take what an op of that maxLen
    // takes (radix clusters), beside the spread kernels: 262144 where 8-CTA clusters cache it
    // (4 rows or more, rows * 8 <= SMs), 81920 where one or two CTAs a row stream longer ones (34
    // rows or more), 131072 otherwise; sorted ops, forced paths and other paths do not split.
    for (const [rows, maxLen, k, split] of [[1, 1 << 20, 2048, 131072], [4, 1 << 20, 2048, 262144], [8, 1 << 20, 2048, 262144], [14, 1 << 20, 512, 262144],
      [20, 524288, 2048, 131072], [40, 524287, 2048, 81920]]) {
      expect([rows, k, choose(H200, rows, maxLen, k).splitLength]).toEqual([rows, k, split]);
      expect(summary(choose(H200, rows, split, k))).toMatch(/^radix /);
    }
    // A device whose CTAs cannot cache 32768 keys (140 KB) keeps 131072.
    const smaller = { ...H200, maxSharedMemoryPerBlockOptin: 140 * KB };
    expect(choose(smaller, 4, 1 << 20, 2048).splitLength).toBe(131072);
    expect(summary(choose(smaller, 4, 262144, 2048))).toBe('spread 512');
    expect(choose(H200, 1, 1 << 20, 2048, NativeRadixPath.Auto, true).splitLength).toBe(0);
    expect(choose(H200, 1, 1 << 20, 2048, NativeRadixPath.Spread).splitLength).toBe(0);
    expect(choose(H200, 1, 131072, 2048).splitLength).toBe(0);
    expect(summary(choose(H200, 34, 196608, 2048))).toBe('spread 512');  // past a quarter of the SMs
    expect(choose(H200, 34, 196608, 2048).splitLength).toBe(81920);
    expect(choose(H200, 15, 1 << 20, 2048).splitLength).toBe(262144);  // the spread kernels ahead of the chunked path
    expect(choose(H200, 17, 1 << 20, 2048).splitLength).toBe(0);  // chunked
    expect(choose(H200, 96, 131072, 2048).splitLength).toBe(81920);
  });

  test("the chunked path's candidates take neither the chunked path nor the spread kernels", () => {
    // Its second top-k runs over rows x chunks x k scores, within the workspace planned for the op's
    // own shape: a path of regions of its own would find none.
    const wrong: string[] = [];
    let chunked = 0;
    for (const [name, gpu] of Object.entries(GPUS)) {
      for (let rows = 1; rows < gpu.multiProcessors; rows++) {
        for (const maxLen of [131072, 262144, 524288, 1 << 20, 1 << 21]) {
          for (const k of [512, 1024, 2048, 4096]) {
            for (const sorted of [false, true]) {
              const c = choose(gpu, rows, maxLen, k, NativeRadixPath.Auto, sorted);
              if (c.kernel !== NativePathKernel.Chunked) continue;
              chunked++;
              const second = summary(choose(gpu, rows, c.chunks * k, k, NativeRadixPath.Auto, sorted));
              if (/^(spread|chunked)/.test(second)) wrong.push(`${name} ${rows} x ${maxLen} k ${k}${sorted ? ' sorted' : ''}: ${second}`);
            }
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(chunked).toBeGreaterThan(1000);  // the sweep reaches the path
  });

  test('a batch shape and a decode shape on each GPU class', () => {
    const got = Object.fromEntries(Object.entries(GPUS).map(([name, gpu]) =>
      [name, [summary(choose(gpu, 256, 131072, 2048)), summary(choose(gpu, 1, 131072, 2048))]]));
    expect(got).toEqual({
      // 256 x 131072 (batch), 1 x 131072 (decode), k = 2048
      'sm_80 (A100)': ['batch', 'radix 1 streaming'],         // no clusters; the batch CTA fits 163 KB
      'sm_86 (A40)': ['radix 1 streaming', 'radix 1 streaming'], // the batch CTA does not fit 99 KB
      'sm_89 (L40S)': ['radix 1 streaming', 'radix 1 streaming'],
      'sm_90 (H200)': ['batch', 'radix 8 cached'],
      'sm_90 (H100)': ['batch', 'radix 8 cached'],
      'sm_100 (B200)': ['batch', 'radix 8 cached'],
      'sm_120 (RTX 5090)': ['radix 1 streaming', 'radix 8 cached'], // clusters, in 99 KB CTAs
    });
  });

  test('every choice fits its device: clusters only where there are any, shared memory within the opt-in limit', () => {
    for (const [name, gpu] of Object.entries(GPUS)) {
      for (const path of [NativeRadixPath.Auto, NativeRadixPath.Block, NativeRadixPath.Cluster, NativeRadixPath.Batch, NativeRadixPath.Register, NativeRadixPath.Spread, NativeRadixPath.Chunked]) {
        for (const rows of [1, 3, 16, 64, 100, 132, 1024]) {
          for (const maxLen of [1, 4096, 16384, 16385, 65536, 131072, 1 << 20]) {
            for (const [k, sorted] of [1, 512, 2048, 4096, 8192, 65536].flatMap((k) => [[k, false], [k, true]] as const)) {
              const c = choose(gpu, rows, maxLen, k, path, sorted);
              const where = `${name}, path ${path}, ${rows} x ${maxLen}, k = ${k}${sorted ? ', sorted' : ''}`;
              expect([where, summary(c)]).not.toEqual([where, 'none']);
              expect([where, c.smemBytes <= gpu.maxSharedMemoryPerBlockOptin]).toEqual([where, true]);
              if (!gpu.clusterLaunch) expect([where, c.ctasPerRow]).toEqual([where, 1]);
            }
          }
        }
      }
    }
  });

  test('a forced path the device cannot run is the automatic choice', () => {
    const a100 = GPUS['sm_80 (A100)'], ada = GPUS['sm_89 (L40S)'];
    expect(choose(a100, 1, 131072, 2048, NativeRadixPath.Cluster)).toEqual(choose(a100, 1, 131072, 2048));
    expect(choose(ada, 4, 131072, 2048, NativeRadixPath.Batch)).toEqual(choose(ada, 4, 131072, 2048));
    expect(choose(ada, 256, 8192, 2048, NativeRadixPath.Register)).toEqual(choose(ada, 256, 8192, 2048));
    expect(choose(H200, 256, 8192, 4096, NativeRadixPath.Register)).toEqual(choose(H200, 256, 8192, 4096));
    expect(summary(choose(H200, 256, 131072, 4096, NativeRadixPath.Register))).toBe('batch');  // as Auto
    expect(choose(a100, 256, 131072, 2048, NativeRadixPath.Cluster)).toEqual(choose(a100, 256, 131072, 2048));
    // The register kernel takes rows of any length (longer ones go to its batch agent).
    expect(summary(choose(H200, 1, 131072, 2048, NativeRadixPath.Register))).toBe('register 512');
    expect(summary(choose(H200, 1, 131072, 2048, NativeRadixPath.Cluster))).toBe('radix 8 cached');
    // A forced cluster's CTAs have an SM alone where its rows' clusters fit the SMs, as Auto's.
    expect(summary(choose(H200, 1, 262144, 2048, NativeRadixPath.Cluster))).toBe('radix 8 cached');
    expect(summary(choose(H200, 17, 262144, 2048, NativeRadixPath.Cluster))).toBe('radix 8 streaming');
    expect(summary(choose(H200, 1, 131072, 2048, NativeRadixPath.Batch))).toBe('batch');
    // The spread kernels take rows of any length within the register kernel's k.
    expect(summary(choose(H200, 1, 1 << 20, 2048, NativeRadixPath.Spread))).toBe('spread 512');
    expect(summary(choose(H200, 64, 8192, 512, NativeRadixPath.Spread))).toBe('spread 512');
    expect(choose(H200, 1, 1 << 20, 4096, NativeRadixPath.Spread)).toEqual(choose(H200, 1, 1 << 20, 4096));
    expect(choose(ada, 1, 1 << 20, 2048, NativeRadixPath.Spread)).toEqual(choose(ada, 1, 1 << 20, 2048));
    // The chunked path takes any shape within the batch kernel's k: 16 chunks a row where no
    // count gives the batch kernel 7/4 CTAs per SM, else the fewest that do.
    expect(summary(choose(H200, 1, 1 << 20, 2048, NativeRadixPath.Chunked))).toBe('chunked 16');
    expect(summary(choose(H200, 1, 4096, 512, NativeRadixPath.Chunked))).toBe('chunked 16');
    expect(summary(choose(H200, 40, 1 << 20, 2048, NativeRadixPath.Chunked))).toBe('chunked 8');
    expect(summary(choose(H200, 256, 131072, 2048, NativeRadixPath.Chunked))).toBe('chunked 4');
    expect(summary(choose(H200, 256, 32768, 4096, NativeRadixPath.Chunked, true))).toBe('chunked 4');
    expect(choose(H200, 1, 1 << 20, 4097, NativeRadixPath.Chunked)).toEqual(choose(H200, 1, 1 << 20, 4097));
    expect(choose(ada, 64, 1 << 20, 2048, NativeRadixPath.Chunked)).toEqual(choose(ada, 64, 1 << 20, 2048));
    expect(choose(a100, 64, 1 << 20, 2048, NativeRadixPath.Chunked).chunks).toBe(4);  // no clusters needed
    // A forced path the device cannot run is Auto, which may be the chunked path.
    expect(summary(choose(H200, 64, 1 << 20, 4096, NativeRadixPath.Register))).toBe('chunked 4');
  });

  test('a device with too little shared memory for any kernel gets none', () => {
    const tiny = { ...GPUS['sm_86 (A40)'], maxSharedMemoryPerBlockOptin: 16 * KB };
    expect(summary(choose(tiny, 1, 131072, 2048))).toBe('none');
  });
});

// Every call an op may take against the regions its workspace holds (opRegions): the spread path's
// rows, the chunked path's chunks and the branch of the length split. A call's path follows its
// shape rows and its span (callPath), so the sweep takes every row count up to maxRows and the
// strides at which the paths change (each threshold and one past it), up to maxLen.
const describeRegions = native.callPath && native.opRegions ? describe : describe.skip;
describeRegions('op regions', () => {
  const STRIDES = [8192, 16384, 16385, 32768, 32769, 65536, 65537, 81920, 81921, 98304, 131072, 131073, 196608, 262144, 262145, 524287, 524288, 1 << 20];
  const MAX_LENS = [65536, 81921, 131072, 196608, 262145, 524288, 1 << 20];
  const MAX_ROWS = [1, 8, 16, 17, 28, 33, 34, 48, 57, 58, 64, 66, 67, 131, 140];

  /** Each op of the sweep on `device` with `path`: its regions and the most every call of it takes. */
  function sweep(device: NativeDeviceCaps, path: NativeRadixPath, ks: number[]) {
    const ops = [];
    for (const maxLen of MAX_LENS)
      for (const maxRows of MAX_ROWS)
        for (const k of ks)
          for (const sorted of [false, true])
            for (const graphSafe of [false, true]) {
              const op = { maxRows, maxLen, k, sorted, graphSafe };
              const regions = native.opRegions!(device, op, path);
              const most = { spreadRows: 0, chunkSlots: 0, branches: false };
              for (const stride of [...STRIDES.filter((s) => s < maxLen), maxLen])
                for (let rows = 1; rows <= maxRows; rows++) {
                  const c = native.callPath!(device, op, path, rows, stride);
                  if (c.kernel === NativePathKernel.Spread) most.spreadRows = Math.max(most.spreadRows, rows);
                  if (c.kernel === NativePathKernel.Chunked) most.chunkSlots = Math.max(most.chunkSlots, rows * c.chunks);
                  if (c.splitLength > 0) most.branches = true;
                }
              ops.push({ op, regions, most });
            }
    return ops;
  }

  const cases: [string, NativeDeviceCaps, NativeRadixPath, number[]][] = [
    ['H200, the heuristic', H200, NativeRadixPath.Auto, [512, 2048, 4096]],
    ['H200, spread forced', H200, NativeRadixPath.Spread, [2048]],
    ['H200, chunked forced', H200, NativeRadixPath.Chunked, [2048]],
    ['H100 (its clusters at once), the heuristic', GPUS['sm_90 (H100)'], NativeRadixPath.Auto, [512, 2048]],
    ['B200, the heuristic', GPUS['sm_100 (B200)'], NativeRadixPath.Auto, [2048]],
    ['A100, the heuristic', GPUS['sm_80 (A100)'], NativeRadixPath.Auto, [2048]],
  ];
  test.each(cases)('%s: the regions are the most its calls take', (_name, device, path, ks) => {
    const ops = sweep(device, path, ks);
    // Holding each call is `most <= regions`; tight regions (no call could use more) are equality.
    const wrong = ops.filter(({ regions, most }) => JSON.stringify(regions) !== JSON.stringify(most));
    expect(wrong.slice(0, 5)).toEqual([]);
    // The sweep reaches both paths and the branch (on the heuristic's devices with clusters).
    if (device.clusterLaunch && path === NativeRadixPath.Auto) {
      expect(ops.some(({ most }) => most.spreadRows > 0)).toBe(true);
      expect(ops.some(({ most }) => most.chunkSlots > 0)).toBe(true);
      expect(ops.some(({ most }) => most.branches)).toBe(true);
    }
  });

  test('a call past the spread threshold on an op whose maxLen the chunked path takes needs spread regions', () => {
    // 60 rows of 524288 take the chunked path; a call at a stride of 100000 the spread kernels.
    const op = { maxRows: 64, maxLen: 524288, k: 2048 };
    expect(native.callPath!(H200, op, NativeRadixPath.Auto, 60, 524288).kernel).toBe(NativePathKernel.Chunked);
    expect(native.callPath!(H200, op, NativeRadixPath.Auto, 60, 100000).kernel).toBe(NativePathKernel.Spread);
    expect(native.opRegions!(H200, op, NativeRadixPath.Auto).spreadRows).toBeGreaterThanOrEqual(60);
  });

  test('a graph-safe op takes the path of its maxRows, whatever rows a call has', () => {
    const op = { maxRows: 64, maxLen: 524288, k: 2048, graphSafe: true };
    expect(native.callPath!(H200, op, NativeRadixPath.Auto, 60, 100000).kernel).toBe(NativePathKernel.Spread);
    expect(native.callPath!(H200, op, NativeRadixPath.Auto, 8, 524288)).toEqual(native.callPath!(H200, op, NativeRadixPath.Auto, 64, 524288));
    // Its regions follow maxRows alone: 64 rows take the chunked path at maxLen, the spread kernels
    // past 81920; fewer rows' paths never run.
    expect(native.opRegions!(H200, op, NativeRadixPath.Auto)).toEqual({ spreadRows: 64, chunkSlots: 64 * 4, branches: true });
  });
});
