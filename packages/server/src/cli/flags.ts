/** Flags of the `init` and `backup` subcommands (the server's own flags are in config/cli.ts). */

/** `value` flags take an argument; `switch` flags do not. */
export type FlagSpec = Record<string, 'value' | 'switch'>;

/**
 * Parses `--name value`, `--name=value` and `--switch`; refuses unknown flags and stray arguments.
 * With `passThrough`, unknown flags (the server's own, e.g. `--config`) are collected into `rest`.
 */
export function parseSubcommandFlags(command: string, argv: readonly string[], spec: FlagSpec, passThrough = false): { flags: Record<string, string>; rest: string[] } {
  const out: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`${command}: unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind) {
      if (!passThrough) throw new Error(`${command}: unknown flag --${name} (see --help)`);
      rest.push(arg);
      if (eq < 0 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) rest.push(argv[++i]!);
      continue;
    }
    if (kind === 'switch') {
      out[name] = '';
      continue;
    }
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new Error(`${command}: --${name} needs a value`);
    out[name] = value;
  }
  return { flags: out, rest };
}
