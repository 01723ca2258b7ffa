#!/usr/bin/env node
// The `nsa-topk` command: info, bench, verify.
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench';
import { infoCommand, packageVersion } from './info';
import { verifyCommand } from './verify';

/**
 * Runs the CLI on `argv` (the user's arguments, without node and the script) and resolves to the
 * exit code; never calls process.exit, so tests can call it.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let code = 0;
  const setExit = (c: number) => { code = c; };
  const program = new Command('nsa-topk')
    .description('exact per-row top-k for sparse-attention indexers')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError()
    .addCommand(infoCommand(setExit))
    .addCommand(benchCommand(setExit))
    .addCommand(verifyCommand(setExit));
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const e = err as Error & { code?: string };
    process.stderr.write(`nsa-topk: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
  return code;
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; });
}
