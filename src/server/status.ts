/**
 * The one mapping from lafited's error codes to gRPC status codes. Every
 * handler turns a thrown value into a status here, so the same failure gets
 * the same status on every method.
 */
import { status as Status, type StatusObject } from "@grpc/grpc-js";
import { Metadata } from "@grpc/grpc-js";
import { ErrorCode, LafiteError, errorCodeOf } from "../util/errors.js";

export const GRPC_STATUS: Readonly<Record<ErrorCode, Status>> = Object.freeze({
  INVALID_INPUT: Status.INVALID_ARGUMENT,
  INVALID_CONFIG: Status.FAILED_PRECONDITION,
  BAD_BUNDLE: Status.FAILED_PRECONDITION,
  BAD_DATASET: Status.FAILED_PRECONDITION,
  NO_MODEL: Status.FAILED_PRECONDITION,
  OVERLOADED: Status.RESOURCE_EXHAUSTED,
  RATE_LIMITED: Status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: Status.UNAUTHENTICATED,
  PERMISSION_DENIED: Status.PERMISSION_DENIED,
  SHUTTING_DOWN: Status.UNAVAILABLE,
  CANCELLED: Status.CANCELLED,
  NOT_FOUND: Status.NOT_FOUND,
  CONFLICT: Status.ABORTED,
  INTERNAL: Status.INTERNAL,
});

export function grpcStatusOf(err: unknown): Status {
  return GRPC_STATUS[errorCodeOf(err)];
}

/** A message safe to send to a client: LafiteError messages are written for callers; anything else is a bug and stays in the log. */
export function publicMessage(err: unknown): string {
  if (err instanceof LafiteError) return err.message;
  return "internal error (see the daemon's log)";
}

/** The status object grpc-js sends for a thrown value. */
export function toStatus(err: unknown): StatusObject {
  return { code: grpcStatusOf(err), details: publicMessage(err), metadata: new Metadata() };
}
