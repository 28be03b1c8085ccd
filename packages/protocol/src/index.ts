/**
 * `@opencall/protocol`: wire messages, enums, error codes, validation and UserSig. This Node entry
 * also swaps in the compiled frame parsers (compiled.ts): same results as the `/wire` entry's,
 * faster; a local export wins over the `export *` of the same name.
 * @packageDocumentation
 */
export * from './wire.js';
export * from './usersig.js';
export { parseClientMessage, parseServerMessage } from './compiled.js';
