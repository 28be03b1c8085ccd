/**
 * The protocol's schemas and frame parsers as they were on full `zod` (classic API), frozen at the
 * commit before they moved to `zod/mini`. Not used by any package: the validation bench times them
 * beside the current ones in the same run (A/B), and test/protocol-zod-mini.test.ts holds the
 * current schemas to exactly their behaviour. Only the import paths were changed when copying.
 */
export { parseClientMessage, parseServerMessage } from './validate.js';
