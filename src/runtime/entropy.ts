/**
 * The edge's entropy for a sans-IO Host (HostOptions.random): 32 bits from
 * the platform's cryptographic generator per call, taken 256 at a time.
 * Unpredictable to a peer — what the challenge-ACK budget and the IP ID keys
 * need against off-path attackers.
 */
export function cryptoRandom32(): () => number {
  const pool = new Uint32Array(256);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      crypto.getRandomValues(pool);
      at = 0;
    }
    return pool[at++] as number;
  };
}

/**
 * `n` bytes from the platform's cryptographic generator: the edge's secret
 * for a Host's ISNs (RFC 6528 §3) and SYN cookies (RFC 4987 §3.6), which a
 * peer must not be able to predict.
 */
export function cryptoSecret(n = 16): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
