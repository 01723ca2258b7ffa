#!/usr/bin/env node
// The `nsa-topk` command: info, bench, verify, fuzz.
import { Command, CommanderError } from 'commander';
import { GlobalOptions, OPTION_SOURCES, OptionSources, pickOptions, splitOptionFlags } from '../options';
import { benchCommand } from './bench';
import { fuzzCommand } from './fuzz';
import { infoCommand, packageVersion } from './info';
import { verifyCommand } from './verify';

const GLOBAL_HELP = [
  '',
  'Global options, accepted anywhere on the line (as by the library in any Node process):',
  ...Object.values(OPTION_SOURCES).map((s) => `  ${s.flag}  (environment: ${s.env})`),
  "They set the defaults of the command's options of the same name (bench: --backend, --tie-break,",
  '--deterministic, --fuse; fuzz: --backend); an option given on the command line wins.',
].join('\n');

/**
 * Sets each option of `cmd` named like a global option and not given on the command line from the
 * --nsa-topk-* flags and NSA_TOPK_* variables. Only those options are parsed, so a bad value fails
 * only a command that would use it.
 */
function applyGlobalOptions(cmd: Command, sources: OptionSources): void {
  for (const option of cmd.options) {
    const key = option.attributeName() as keyof GlobalOptions;
    if (!Object.hasOwn(OPTION_SOURCES, key) || cmd.getOptionValueSource(key) === 'cli') continue;
    cmd.setOptionValueWithSource(key, pickOptions([key], {}, sources)[key], 'env');
  }
}

/**
 * Runs the CLI on `argv` (the user's arguments, without node and the script) and resolves to the
 * exit code; never calls process.exit, so tests can call it.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let code = 0;
  const setExit = (c: number) => { code = c; };
  // The library's flags are split out before commander sees the line, which would refuse them.
  const { flags, rest } = splitOptionFlags(argv);
  const program = new Command('nsa-topk')
    .description('exact per-row top-k for sparse-attention indexers')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', GLOBAL_HELP)
    .addCommand(infoCommand(setExit))
    .addCommand(benchCommand(setExit))
    .addCommand(verifyCommand(setExit))
    .addCommand(fuzzCommand(setExit))
    .hook('preAction', (_program, action) => applyGlobalOptions(action, { argv: flags }));
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(rest, { from: 'user' });
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
