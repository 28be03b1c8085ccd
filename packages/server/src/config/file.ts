/**
 * `--config FILE` (SPEC §2): the options table as YAML or JSON (JSON is YAML, so one parser; it
 * also names the line of a syntax error). Keys are checked against the options schema itself, so
 * a misspelt key fails start-up with its name instead of being silently dropped.
 */
import { readFileSync } from 'node:fs';
import { YAMLParseError, parse } from 'yaml';
import type * as z from '@opencall/protocol/zod';
import { ServerOptionsSchema } from './schema.js';
import { SECRET_FILES, readSecretFile } from './secrets.js';

/** The object-shaped schema reached through wrappers (default, prefault, optional), if any. */
function objectShape(schema: z.ZodMiniType): Record<string, z.ZodMiniType> | null {
  const def = (schema as unknown as { _zod: { def: { type: string; shape?: Record<string, z.ZodMiniType>; innerType?: z.ZodMiniType; options?: z.ZodMiniType[] } } })._zod.def;
  if (def.type === 'object') return def.shape ?? null;
  if (def.innerType) return objectShape(def.innerType);
  if (def.type === 'union') {
    // The object branch of e.g. `'auto' | { janusUrl }`.
    for (const o of def.options ?? []) {
      const shape = objectShape(o);
      if (shape) return shape;
    }
  }
  return null;
}

/** Dotted paths of keys in `value` that the schema does not know. */
export function unknownKeys(shape: Record<string, z.ZodMiniType>, value: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const child = shape[k];
    if (!child) {
      out.push(prefix + k);
      continue;
    }
    const inner = objectShape(child);
    if (inner && v && typeof v === 'object' && !Array.isArray(v)) out.push(...unknownKeys(inner, v as Record<string, unknown>, `${prefix}${k}.`));
  }
  return out;
}

/**
 * Reads and checks a config file; returns the options it sets. Secret-file keys
 * (`secretKeyFile`, …) are replaced by the secrets they point to. Throws an Error naming the file
 * and the line of a syntax error, or every unknown key.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`config file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      // The pretty message appends " at line L, column C:" and a code frame; the line is said below.
      const reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new Error(`config file ${path}${at ? ` line ${at.line}, column ${at.col}` : ''}: ${reason}`);
    }
    throw err;
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`config file ${path}: must be a mapping of option names to values`);
  const options = { ...(doc as Record<string, unknown>) };
  for (const s of SECRET_FILES) {
    const file = options[s.fileKey];
    if (file === undefined) continue;
    delete options[s.fileKey];
    if (typeof file !== 'string') throw new Error(`config file ${path}: ${s.fileKey} must be a file path`);
    s.set(options, readSecretFile(file, s.fileKey));
  }
  const unknown = unknownKeys(ServerOptionsSchema.shape, options);
  if (unknown.length) {
    throw new Error(`config file ${path}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (the keys are those of the options table, see --help)`);
  }
  return options;
}
