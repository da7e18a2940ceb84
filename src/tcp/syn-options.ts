import type { TcpOption } from "../wire/tcp-types.ts";
import { tcpOptionsLength } from "../wire/tcp.ts";
import type { SynOptionSlot } from "./settings.ts";

/**
 * Lays out SYN / SYN-ACK options the way a given stack does (settings
 * synOptionLayout / synAckOptionLayout): options in the layout's order, a
 * NOP in the layout belonging to the option right after it (so FreeBSD's
 * `nop,wscale` loses its NOP when window scaling is off, and Linux's
 * `nop,nop,sackOK` its two), then padding to a multiple of 4 bytes.
 */
export function layOut(
  layout: readonly SynOptionSlot[],
  present: Partial<Record<SynOptionSlot, TcpOption>>,
  padding: "nop" | "eol",
): TcpOption[] {
  const out: TcpOption[] = [];
  let nops = 0;
  for (const slot of layout) {
    if (slot === "nop") {
      nops++;
      continue;
    }
    if (slot === "eol") break; // nothing after an EOL is read (RFC 9293 §3.2)
    const opt = present[slot];
    if (opt !== undefined) {
      for (; nops > 0; nops--) out.push({ kind: "nop" });
      out.push(opt);
    }
    nops = 0;
  }
  const rest = tcpOptionsLength(out) % 4;
  if (rest !== 0) {
    // EOL then zeros (the emitter writes zeros to the boundary), or NOPs.
    if (padding === "eol") out.push({ kind: "eol" });
    else for (let i = rest; i < 4; i++) out.push({ kind: "nop" });
  }
  return out;
}
