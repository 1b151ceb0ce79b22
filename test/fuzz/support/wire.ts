/**
 * DetectRequest bytes written field by field with the protobuf wire writer,
 * independent of the generated TypeScript shapes, so the fuzzer can write
 * what no well-behaved client would: out-of-range dimensions, unknown enum
 * values, NaN thresholds, unknown fields and broken framing.
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export interface WireRequest {
  readonly frameId?: string;
  readonly encoded?: Uint8Array;
  readonly raw?: { readonly width: number; readonly height: number; readonly format: number; readonly pixels: Uint8Array };
  readonly classTag?: string;
  readonly options?: { readonly heatmap?: boolean; readonly mask?: boolean; readonly regions?: boolean; readonly threshold?: number; readonly junk?: Uint8Array };
  /** Raw bytes appended after the fields (unknown fields, or broken framing). */
  readonly trailing?: Uint8Array;
}

export function requestBytes(r: WireRequest): Uint8Array {
  const w = new BinaryWriter();
  if (r.frameId !== undefined) w.tag(1, WireType.LengthDelimited).string(r.frameId);
  if (r.encoded !== undefined) w.tag(2, WireType.LengthDelimited).bytes(r.encoded);
  if (r.raw !== undefined) {
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Varint).uint32(r.raw.width);
    w.tag(2, WireType.Varint).uint32(r.raw.height);
    w.tag(3, WireType.Varint).int32(r.raw.format);
    w.tag(4, WireType.LengthDelimited).bytes(r.raw.pixels);
    w.join();
  }
  if (r.classTag !== undefined) w.tag(4, WireType.LengthDelimited).string(r.classTag);
  if (r.options !== undefined) {
    const o = r.options;
    w.tag(5, WireType.LengthDelimited).fork();
    if (o.heatmap !== undefined) w.tag(1, WireType.Varint).bool(o.heatmap);
    if (o.mask !== undefined) w.tag(2, WireType.Varint).bool(o.mask);
    if (o.regions !== undefined) w.tag(3, WireType.Varint).bool(o.regions);
    if (o.threshold !== undefined) w.tag(4, WireType.Bit32).float(o.threshold);
    if (o.junk !== undefined) w.raw(o.junk);
    w.join();
  }
  if (r.trailing !== undefined) w.raw(r.trailing);
  return w.finish();
}
