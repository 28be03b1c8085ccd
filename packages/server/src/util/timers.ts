/** Longest single setTimeout Node accepts (2^31 − 1 ms); longer delays re-arm on expiry. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
