// nsa-topk in a few lines: host arrays first (runs anywhere: `auto` picks the CPU backend when no
// GPU is usable), then the reusable op over device buffers when a CUDA device is there.
// Run from the repository root after `npm install`: node examples/quickstart.js
'use strict';

const { topk, topkSync, cudaStatus, TopK, DeviceBuffer, Stream, captureGraph } = require('nsa-topk');

async function hostArrays() {
  // 2 rows x 8 scores, row-major. Row 0 has a tie at 0.5 and a NaN (the greatest key);
  // row 1 has -0 and +0, which are equal keys.
  const scores = Float32Array.from([
    0.1, 0.5, NaN, 0.5, -1, 0.5, 2, 0.3,
    -0, 3, 0, -2, 1, 1, -Infinity, 0.25,
  ]);

  // k = 4 greatest per row; ties at the 4th key go to the smallest positions; sorted output.
  const r = await topk(scores, { k: 4, rows: 2, tieBreak: 'small', sorted: true, values: true });
  console.log(`backend: ${r.backend}`);
  console.log(`indices  ${r.indices.join(' ')}`); // 2 6 1 3 1 4 5 7
  console.log(`values   ${r.values.join(' ')}`);  // NaN 2 0.5 0.5 3 1 1 0.25

  // Windows: row r looks at scores[r, rowStarts[r] .. rowStarts[r] + lengths[r]); indices are
  // relative to the window start. A window shorter than k is padded with -1.
  const w = topkSync(scores, { k: 4, rows: 2, rowStarts: [4, 0], lengths: [3, 8], deterministic: true });
  console.log(`windowed ${w.indices.join(' ')}`); // 0 1 2 -1 1 4 5 7 (ascending j, padding last)
}

function deviceOp() {
  const status = cudaStatus();
  if (!status.usable) {
    console.log(`TopK op skipped: ${status.reason ?? 'no usable CUDA device'}`);
    return;
  }
  const rows = 4;
  const len = 65536;
  const k = 2048;
  const host = Float32Array.from({ length: rows * len }, () => Math.random());
  const stream = new Stream();
  const scores = DeviceBuffer.from(host);
  const lengths = DeviceBuffer.from(Int32Array.from([len, len / 2, 100, 0]));
  const out = DeviceBuffer.alloc({ dtype: 'i32', length: rows * k });
  // Built once for the largest shape it will see; graphSafe fixes every launch by these maxima.
  const op = new TopK({ k, maxRows: rows, maxLen: len, graphSafe: true });
  const args = { scores, lengths, rows, stride: len, out, stream };

  op.run(args);
  stream.synchronize();

  // Several ops (or an op and your own kernels) in one graph; replays see new device contents.
  const graph = captureGraph(stream, () => op.run(args));
  lengths.copyFrom(Int32Array.from([10, 20, 30, 40]));
  graph.replay(stream);
  stream.synchronize();

  const indices = new Int32Array(rows * k);
  out.copyTo(indices);
  console.log(`TopK on ${op.backend}: row 0 of the replay selected ${indices.subarray(0, k).filter((j) => j >= 0).length} positions`); // 10
  for (const x of [graph, op, out, lengths, scores, stream]) x.dispose();
}

hostArrays()
  .then(deviceOp)
  .catch((err) => {
    console.error(`${err.code ?? 'error'}: ${err.message}`);
    process.exitCode = 1;
  });
