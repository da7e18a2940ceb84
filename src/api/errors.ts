/** Socket errors, named and meant as the BSD/POSIX errno values. */
export type ErrorCode =
  | "EAGAIN"
  | "EINPROGRESS"
  | "EALREADY"
  | "EISCONN"
  | "ENOTCONN"
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "ECONNABORTED"
  | "ETIMEDOUT"
  | "EPIPE"
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "EINVAL"
  | "EBADF"
  | "EOPNOTSUPP"
  | "ENOPROTOOPT"
  | "EMSGSIZE"
  | "EDESTADDRREQ"
  | "EAFNOSUPPORT";

const MESSAGES: Record<ErrorCode, string> = {
  EAGAIN: "Resource temporarily unavailable",
  EINPROGRESS: "Operation now in progress",
  EALREADY: "Operation already in progress",
  EISCONN: "Transport endpoint is already connected",
  ENOTCONN: "Transport endpoint is not connected",
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ECONNABORTED: "Software caused connection abort",
  ETIMEDOUT: "Connection timed out",
  EPIPE: "Broken pipe",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EINVAL: "Invalid argument",
  EBADF: "Bad file descriptor",
  EOPNOTSUPP: "Operation not supported",
  ENOPROTOOPT: "Protocol not available",
  EMSGSIZE: "Message too long",
  EDESTADDRREQ: "Destination address required",
  EAFNOSUPPORT: "Address family not supported by protocol",
};

/**
 * A failed socket call. The BSD-like `Sockets` layer *returns* these (it
 * never throws for a caller's mistake or a network failure); the promise
 * adapter (`Net`, `Connection`) rejects with them.
 */
export class SocketError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, detail?: string) {
    super(
      detail === undefined
        ? `${code}: ${MESSAGES[code]}`
        : `${code}: ${MESSAGES[code]} (${detail})`,
    );
    this.name = "SocketError";
    this.code = code;
  }
}

export function isSocketError(value: unknown): value is SocketError {
  return value instanceof SocketError;
}
