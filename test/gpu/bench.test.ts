// The GPU side of `nsa-topk bench`: the GPU hold that keeps host enqueue gaps out of the event
// timings, and the fields a CUDA bench result carries.
import { Stream } from '../../lib';
import { runBench } from '../../lib/cli/bench';
import { requireCuda } from '../../lib/cuda';
import { nativeStream } from '../../lib/device';
import { describeGpu } from '../helpers/gpu';

describeGpu('bench on the GPU', () => {
  test('a hold keeps the stream busy: an event behind it completes only after it', () => {
    const Event = requireCuda('Event', 'test');
    const hold = requireCuda('hold', 'test');
    const stream = new Stream();
    const event = new Event(stream.device);
    try {
      const ns = nativeStream('stream', stream);
      hold(ns, 300_000); // 0.3 s: far longer than the two calls below take on the host
      event.record(ns);
      expect(event.query()).toBe(false);
      event.synchronize();
      expect(event.query()).toBe(true);
    } finally {
      event.dispose();
      stream.dispose();
    }
  });

  test('CUDA results carry GPU medians, the read probe and the host enqueue time', async () => {
    // Shapes of 2 and 8 MB: few input buffers to fill (the rotation exceeds twice the L2 cache).
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const results = await runBench({
        backend: 'radix', rows: [16, 64], lengths: [32768], k: 64, dtype: 'f32', tieBreak: 'none', deterministic: false,
        sorted: false, fuse: 'none', path: 'auto', iters: 30, warmup: 3, baseline: false, torch: false, progress: false,
      });
      expect(results).toHaveLength(2);
      for (const r of results) {
        expect(r.backend).toBe('radix');
        for (const x of [r.medianUs, r.probeUs, r.enqueueUs, r.gbps]) {
          expect(Number.isFinite(x)).toBe(true);
          expect(x).toBeGreaterThan(0);
        }
        expect(r.hostBound).toBeUndefined();
      }
    } finally {
      write.mockRestore();
    }
  });
});
