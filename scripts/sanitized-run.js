// Small end-to-end top-k runs for compute-sanitizer (scripts/gpu-suite.sh, candidate-round.sh):
// each shape as f32 and bf16 scores, on each backend named, every tie-break, unsorted and sorted.
// A shape is [rows, length, kind (0 normal-like, 1 ReLU-like: mostly 0.0, 2 four values), k
// (default 2048)]. Usage: node scripts/sanitized-run.js 'SHAPES JSON' 'BACKENDS JSON'
'use strict';
const { topkSync } = require('../dist');

const shapes = JSON.parse(process.argv[2]);
const backends = JSON.parse(process.argv[3]);
for (const [rows, length, kind, k = 2048] of shapes) {
  const f32 = Float32Array.from({ length: rows * length }, (_, i) =>
    kind === 2 ? Math.floor(4 * Math.random()) - 1
      : kind ? (Math.random() < 0.001 ? Math.random() : 0) : i % 3 ? Math.random() - 0.5 : 0);
  const bf16 = new Uint16Array(new Uint32Array(f32.buffer).map((b) => b >>> 16));
  for (const [scores, dtype] of [[f32, 'f32'], [bf16, 'bf16']])
    for (const backend of backends)
      for (const tieBreak of ['none', 'small', 'large'])
        for (const sorted of [false, true])
          topkSync(scores, { k, rows, dtype, backend, tieBreak, values: true, sorted });
}
console.log('sanitized run done');
