/**
 * `@opencall/protocol`: wire messages, enums, error codes, validation and UserSig. Node only
 * (UserSig needs node:crypto), so it carries the compiled frame parsers of wire-node.ts.
 * @packageDocumentation
 */
export * from './wire-node.js';
export * from './usersig.js';
