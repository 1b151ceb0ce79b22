/**
 * Who is calling: grpc-js reports a TCP peer as "<address>:<port>"
 * ("127.0.0.1:5123", "::1:5123", "::ffff:127.0.0.1:5123"). Until
 * authentication exists, ModelAdmin answers loopback peers only.
 */
import { isIPv4, isIPv6 } from "node:net";

/** The address part of a grpc-js peer string. */
export function peerAddress(peer: string): string {
  const cut = peer.lastIndexOf(":");
  if (cut <= 0) return peer;
  const host = peer.slice(0, cut);
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return isIPv4(bare) || isIPv6(bare) ? bare : peer;
}

export function isLoopbackPeer(peer: string): boolean {
  const addr = peerAddress(peer);
  if (isIPv4(addr)) return addr.startsWith("127.");
  if (isIPv6(addr)) {
    const lower = addr.toLowerCase();
    if (lower === "::1" || lower === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && mapped[1]!.startsWith("127.");
  }
  return false;
}
