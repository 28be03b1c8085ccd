/**
 * `@opencall/protocol`: wire messages, enums, error codes, validation and UserSig.
 * @packageDocumentation
 */
export * from './wire.js';
export * from './usersig.js';
