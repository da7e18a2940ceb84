/**
 * Ephemeral port selection (RFC 6335 §6: the dynamic range 49152–65535).
 *
 * A simple variant of RFC 6056's sequential search: a cursor walks the range
 * and the first port the caller accepts wins. The starting point is a
 * parameter (a fixed default keeps runs reproducible; a host may pass a
 * random start for RFC 6056-style obfuscation).
 */
export const EPHEMERAL_FIRST = 49152;
export const EPHEMERAL_LAST = 65535;
const RANGE = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;

export class EphemeralPorts {
  private next: number;

  constructor(start: number = EPHEMERAL_FIRST) {
    this.next = EPHEMERAL_FIRST + ((((start - EPHEMERAL_FIRST) % RANGE) + RANGE) % RANGE);
  }

  /** The first free port from the cursor on, or undefined when all 16384 are taken. */
  allocate(isFree: (port: number) => boolean): number | undefined {
    for (let i = 0; i < RANGE; i++) {
      const port = this.next;
      this.next = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1;
      if (isFree(port)) return port;
    }
    return undefined;
  }
}

/** A TCP or UDP port number a user may bind (0 means "pick one for me"). */
export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}
