/**
 * Secrets from files (SPEC §2): every secret option can be given as the path of a file holding it
 * (`--secret-key-file`, `OPENCALL_SECRET_KEY_FILE`, `secretKeyFile:` in a config file), so it
 * never shows in `ps`, the environment of child processes, or a config file under version control.
 * Works with systemd's `LoadCredential=` and container secrets.
 */
import { readFileSync } from 'node:fs';

/** One secret that can come from a file. */
export interface SecretFile {
  /** Config-file key and camel-case base of the flag (`--secret-key-file`) and env var (`OPENCALL_SECRET_KEY_FILE`). */
  fileKey: string;
  /** Puts the secret where the options schema expects it. */
  set(options: Record<string, unknown>, secret: string): void;
}

/** Sets a nested option, keeping sibling keys already given (e.g. `turn.urls`). */
function setNested(key: string, field: string): SecretFile['set'] {
  return (options, secret) => {
    const cur = options[key];
    options[key] = { ...(cur && typeof cur === 'object' ? cur : {}), [field]: secret };
  };
}

/** Every secret option. */
export const SECRET_FILES: readonly SecretFile[] = [
  { fileKey: 'secretKeyFile', set: (o, s) => (o['secretKey'] = s) },
  { fileKey: 'webhookSecretFile', set: (o, s) => (o['webhookSecret'] = s) },
  { fileKey: 'turnSecretFile', set: setNested('turn', 'secret') },
  { fileKey: 'metricsTokenFile', set: (o, s) => (o['metricsToken'] = s) },
];

/** The file's content without the trailing newline; a clear error when unreadable or empty. */
export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret.trim()) throw new Error(`${what}: ${path} is empty`);
  return secret;
}
