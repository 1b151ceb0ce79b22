/**
 * A request message whose bytes are not valid protobuf. grpc-js answers a
 * deserializer that throws with INTERNAL ("Error deserializing request"),
 * which blames the daemon for the client's bytes; so the server's request
 * deserializers return this marker instead, and the call guard ends the call
 * with INVALID_ARGUMENT naming the message type (src/server/call-guard.ts).
 */
const markers = new WeakSet<object>();

export interface Undecodable {
  readonly typeName: string;
  readonly reason: string;
}

export function undecodable(typeName: string, err: unknown): Undecodable {
  const marker = Object.freeze({ typeName, reason: err instanceof Error ? err.message : String(err) });
  markers.add(marker);
  return marker;
}

export function isUndecodable(message: unknown): message is Undecodable {
  return typeof message === "object" && message !== null && markers.has(message);
}
