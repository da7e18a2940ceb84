/** TCP header records (RFC 9293 §3.1). Codec functions live in tcp.ts. */

/** Control bits as a bit mask, in header order (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export const Flag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export type TcpOption =
  | { readonly kind: "eol" }
  | { readonly kind: "nop" }
  | { readonly kind: "mss"; readonly value: number }
  | { readonly kind: "wscale"; readonly shift: number }
  | { readonly kind: "sackPermitted" }
  | {
      readonly kind: "sack";
      readonly blocks: ReadonlyArray<readonly [left: number, right: number]>;
    }
  | { readonly kind: "timestamps"; readonly tsVal: number; readonly tsEcr: number }
  /** An option we do not interpret, kept byte for byte. */
  | { readonly kind: "unknown"; readonly type: number; readonly data: Uint8Array };

export interface TcpSegment {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** Bit mask of Flag values. */
  readonly flags: number;
  readonly window: number;
  readonly urgentPointer: number;
  readonly options: readonly TcpOption[];
  readonly payload: Uint8Array;
}
