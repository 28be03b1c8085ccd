/**
 * Small SDP helpers: candidate rewriting (the test hook applies to candidates inside SDP too) and
 * the DTLS fingerprint, which tells a renegotiation of the same peer connection from a new one.
 * @packageDocumentation
 */

/** Applies `rewrite` to every `a=candidate:` line (without the `a=` prefix); null drops the line. */
export function rewriteSdpCandidates(sdp: string, rewrite: (candidate: string) => string | null): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('a=candidate:')) {
      out.push(line);
      continue;
    }
    const next = rewrite(line.slice(2));
    if (next !== null) out.push(`a=${next}`);
  }
  return out.join(eol);
}

/** The first `a=fingerprint:` value of an SDP, or null. */
export function sdpFingerprint(sdp: string): string | null {
  const m = /^a=fingerprint:(.+)$/m.exec(sdp);
  return m?.[1]?.trim() ?? null;
}

/** True for a UDP candidate on 127.0.0.1 (host, or relay when TURN's relay address is loopback). */
export function isLoopbackCandidate(candidate: string): boolean {
  const f = candidate.replace(/^a=/, '').split(' ');
  return f[2]?.toLowerCase() === 'udp' && f[4] === '127.0.0.1';
}
