/**
 * The one grpc-js server interceptor, run before any handler: authenticate
 * and authorize the call (auth/), then apply the per-client limits (limits/).
 * A refused call ends here with its status and never reaches a handler. A
 * request whose bytes are not valid protobuf gets INVALID_ARGUMENT: as a
 * per-frame error for frames, else as the call's status.
 *
 * A frame over a rate limit is not refused here but marked: the handler
 * answers it in order with a per-frame RESOURCE_EXHAUSTED error and the
 * stream stays open (frameRefusal()). The caller's identity reaches handlers
 * the same way (principalOf()); both are WeakMaps keyed by objects grpc-js
 * hands to the handler, so no client can forge them through metadata.
 */
import * as grpc from "@grpc/grpc-js";
import { authenticate } from "./auth/authenticate.js";
import type { OpenServices } from "./auth/scopes.js";
import type { Credentials, Principal } from "./auth/tokens.js";
import type { ClientLimits } from "./limits/client-limits.js";
import { toStatus } from "./status.js";
import { LafiteError, errorCodeOf, invalidInput, type ErrorCode } from "../util/errors.js";
import { isUndecodable } from "./undecodable.js";
import type { Logger } from "../util/log.js";

/** Methods whose request messages are frames (counted by the frame-rate limits). */
export const FRAME_METHODS: ReadonlySet<string> = new Set(["/lafited.v1.Detector/Detect", "/lafited.v1.Detector/DetectOne"]);

/** Streaming methods of these packages count against limits.perPeer.maxStreams (health Watch and reflection do not). */
const LIMITED_STREAM_PREFIX = "/lafited.";

export interface CallGuardOptions {
  /** The current credentials (replaced on SIGHUP). */
  readonly credentials: () => Credentials;
  readonly open: () => OpenServices;
  readonly limits: () => ClientLimits;
  readonly log: Logger;
  /** Called once per call refused by auth (UNAUTHENTICATED / PERMISSION_DENIED) or by the stream limit. */
  readonly onRefused?: (code: ErrorCode, path: string) => void;
}

const principals = new WeakMap<grpc.Metadata, Principal>();
const refusals = new WeakMap<object, LafiteError>();

/** The authenticated caller of a call, from its request metadata (undefined if the guard did not run). */
export function principalOf(metadata: grpc.Metadata): Principal | undefined {
  return principals.get(metadata);
}

/** Why the guard refused a frame request (a per-client limit, or bytes that are not a DetectRequest), if it did. */
export function frameRefusal(request: object): LafiteError | undefined {
  return refusals.get(request);
}

/** "::ffff:10.0.0.5" → "10.0.0.5"; the client address, without its port. */
export function peerAddress(call: grpc.ServerInterceptingCallInterface): string {
  const address = call.getConnectionInfo().remoteAddress ?? call.getPeer();
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export function callGuard(options: CallGuardOptions): grpc.ServerInterceptor {
  // grpc-js types the method definition's messages as any; the guard only reads path and the streaming flags.
  return (method: grpc.ServerMethodDefinition<unknown, unknown>, call: grpc.ServerInterceptingCallInterface) => {
    const path = method.path;
    const isFrameMethod = FRAME_METHODS.has(path);
    const isLimitedStream = (method.requestStream || method.responseStream) && path.startsWith(LIMITED_STREAM_PREFIX);
    const limits = options.limits();
    let peer = "";
    let principal: Principal | undefined;
    let release: (() => void) | undefined;

    const refuse = (err: LafiteError) => {
      options.onRefused?.(errorCodeOf(err), path);
      // Auth and limit refusals matter to operators; a malformed message is the client's own business.
      const level = err.code === "INVALID_INPUT" ? "debug" : "info";
      options.log[level]({ path, peer, principal: principal?.id, code: err.code, msg: err.message }, "call refused");
      call.sendStatus(toStatus(err));
    };

    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        peer = peerAddress(call);
        try {
          principal = authenticate(path, metadata, call.getAuthContext().sslPeerCertificate, options.credentials(), options.open());
          if (isLimitedStream) release = limits.openStream(peer);
        } catch (err) {
          if (err instanceof LafiteError) return refuse(err);
          throw err;
        }
        principals.set(metadata, principal);
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        if (isUndecodable(message)) {
          const err = invalidInput(`request is not a valid ${message.typeName} protobuf message: ${message.reason}`);
          // A frame is answered by its handler, in order, with a per-frame error (the stream goes on). Ending a
          // stream from here while its handler still writes responses races grpc-js (measured: the client then
          // never gets a status), so only other methods, whose handlers start after their one request, end here.
          if (isFrameMethod) {
            refusals.set(message, err);
            return next(message);
          }
          release?.();
          return refuse(err);
        }
        if (isFrameMethod && message !== null && typeof message === "object") {
          const refusal = limits.admitFrame(peer, principal?.id === "anonymous" ? undefined : principal?.id);
          if (refusal !== undefined) refusals.set(message as object, refusal);
        }
        next(message);
      })
      .withOnCancel(() => release?.())
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        release?.();
        next(status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
