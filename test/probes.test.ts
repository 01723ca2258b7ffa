// The GPU probes (scripts/probes) are built on the GPU machine only, so nothing else compiles them:
// nvcc's front end checks them against the kernels' sources as they are now (a moved member once
// left the timeline probe unbuildable for a session). Skipped where nvcc is not on the PATH.
import { spawnSync } from 'child_process';
import { join } from 'path';

const root = join(__dirname, '..');
const nvcc = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
const check = nvcc.status === 0 ? test : test.skip;

check('the probes compile against the current sources (nvcc front end)', () => {
  const run = spawnSync('bash', [join(root, 'scripts', 'probes', 'build.sh'), '--check'], { cwd: root, encoding: 'utf8' });
  expect(run.stderr).not.toMatch(/error/);
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('checked cluster_exchange');
  expect(run.stdout).toContain('checked timeline');
}, 120_000);
