/**
 * The one error type of lafited. Every failure that crosses a module boundary
 * carries a stable code; the gRPC layer maps codes to statuses in one place
 * (src/server/status.ts) and the CLI prints the message and exits non-zero.
 */
export const ErrorCode = {
  /** The caller sent something malformed (bad image, bad raw frame, bad option). */
  INVALID_INPUT: "INVALID_INPUT",
  /** A config file or value failed validation. */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** A model bundle is missing, damaged or incompatible. */
  BAD_BUNDLE: "BAD_BUNDLE",
  /** A data-set folder is missing or unusable. */
  BAD_DATASET: "BAD_DATASET",
  /** No model is loaded yet. */
  NO_MODEL: "NO_MODEL",
  /** A bounded queue is full. */
  OVERLOADED: "OVERLOADED",
  /** A per-client limit (streams or frames per second of a peer or token) was hit. */
  RATE_LIMITED: "RATE_LIMITED",
  /** The call carries no credentials, or unknown ones. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** The caller is known but lacks the scope the method needs. */
  PERMISSION_DENIED: "PERMISSION_DENIED",
  /** The process is shutting down and takes no new work. */
  SHUTTING_DOWN: "SHUTTING_DOWN",
  /** A long job was interrupted by the user or a deadline. */
  CANCELLED: "CANCELLED",
  /** A named thing (model version, ledger record, job, frame id) does not exist. */
  NOT_FOUND: "NOT_FOUND",
  /** The request conflicts with the current state (e.g. a job is already running). */
  CONFLICT: "CONFLICT",
  /** A bug or an unexpected failure of a dependency. */
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class LafiteError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "LafiteError";
  }
}

export const invalidInput = (message: string, cause?: unknown) => new LafiteError(ErrorCode.INVALID_INPUT, message, { cause });

/** The code of any thrown value: LafiteError keeps its own, anything else is INTERNAL. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof LafiteError ? err.code : ErrorCode.INTERNAL;
}
