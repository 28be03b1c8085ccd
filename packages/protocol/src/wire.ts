/**
 * Browser-safe entry of `@opencall/protocol` (`@opencall/protocol/wire`): everything but UserSig,
 * which needs node:crypto and node:zlib.
 */
export * from './enums.js';
export * from './errors.js';
export * from './ids.js';
export * from './push.js';
export * from './records.js';
export * from './signaling/common.js';
export * from './signaling/client-to-server.js';
export * from './signaling/server-to-client.js';
export * from './validate.js';
