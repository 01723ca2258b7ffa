// The `nsa-topk` command run in-process through main(argv), with stdout and stderr captured.
import { main } from '../../lib/cli/main';

export interface CliRun { code: number; stdout: string; stderr: string }

export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => { into.push(String(chunk)); return true; };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture(out) as never);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture(err) as never);
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
