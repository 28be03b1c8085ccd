/**
 * The one zod import of the repository (`@opencall/protocol/zod`; the server's options and REST
 * schemas use it too): `zod/mini`, zod v4's functional API. Same validation engine and messages
 * as `zod`, but a bundler keeps only the schema kinds and checks the schemas use, so the browser
 * SDK does not carry the whole library (BENCHMARKS.md, "Call kit"). Import it as a namespace
 * (`import * as z from './zod.js'`): re-exporting zod/mini's `z` object as a value would make
 * esbuild keep all of it, every locale included.
 */
import { config } from 'zod/mini';
import { globalConfig } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

// zod/mini loads no locale (every message would read "Invalid input"); the server and the client
// report these messages (`-1202 userIds.0: Too small: ...`), so the English table is installed, as
// full zod does, unless the application has chosen a locale of its own first.
if (!globalConfig.localeError) config(en());

export * from 'zod/mini';
