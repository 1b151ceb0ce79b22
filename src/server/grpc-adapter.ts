/**
 * Turns a protobuf-es service descriptor into a grpc-js service definition.
 * The descriptor already knows each method's name, kind and messages, so the
 * wire encoding (toBinary/fromBinary) and the handler types are derived here
 * once, for every service, instead of a serializer per method.
 */
import type * as grpc from "@grpc/grpc-js";
import { undecodable, type Undecodable } from "./undecodable.js";
import { fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";

/** A method as protobuf-es generated code types it (GenService carries the literal kind). */
type MethodShape = Pick<DescMethod, "methodKind" | "input" | "output">;
type ServiceShape = Omit<DescService, "method"> & { method: Record<string, MethodShape> };

type Req<M extends MethodShape> = MessageShape<M["input"]>;
type Res<M extends MethodShape> = MessageShape<M["output"]>;

/** The grpc-js handler type for one method, by its kind. */
export type MethodHandler<M extends MethodShape> = M["methodKind"] extends "unary"
  ? grpc.handleUnaryCall<Req<M>, Res<M>>
  : M["methodKind"] extends "server_streaming"
    ? grpc.handleServerStreamingCall<Req<M>, Res<M>>
    : M["methodKind"] extends "client_streaming"
      ? grpc.handleClientStreamingCall<Req<M>, Res<M>>
      : grpc.handleBidiStreamingCall<Req<M>, Res<M>>;

/** A full implementation of a service: one handler per method, keyed by the method's localName. */
export type ServiceImpl<S extends ServiceShape> = { [K in keyof S["method"]]: MethodHandler<S["method"][K]> };

/** grpc-js method definition of one method of S. */
export type MethodDef<S extends ServiceShape, K extends keyof S["method"]> = grpc.MethodDefinition<Req<S["method"][K]>, Res<S["method"][K]>>;

/** grpc-js service definition, keyed by localName like ServiceImpl. */
export type ServiceDef<S extends ServiceShape> = { [K in keyof S["method"]]: MethodDef<S, K> };

export function serializer<D extends DescMessage>(schema: D): (msg: MessageShape<D>) => Buffer {
  return (msg) => {
    const bytes = toBinary(schema, msg);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

export function deserializer<D extends DescMessage>(schema: D): (buf: Buffer) => MessageShape<D> {
  return (buf) => fromBinary(schema, buf);
}

/** A request deserializer that returns a marker for bad bytes instead of throwing (see undecodable.ts). */
function tolerantDeserializer<D extends DescMessage>(schema: D): (buf: Buffer) => MessageShape<D> | Undecodable {
  return (buf) => {
    try {
      return fromBinary(schema, buf);
    } catch (err) {
      return undecodable(schema.typeName, err);
    }
  };
}

/** The grpc-js definition of one method (path, streaming flags, codecs). */
export function methodDefinition(service: DescService, method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  const kind = method.methodKind;
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: kind === "client_streaming" || kind === "bidi_streaming",
    responseStream: kind === "server_streaming" || kind === "bidi_streaming",
    requestSerialize: serializer(method.input) as (msg: unknown) => Buffer,
    requestDeserialize: tolerantDeserializer(method.input),
    responseSerialize: serializer(method.output) as (msg: unknown) => Buffer,
    responseDeserialize: deserializer(method.output),
    originalName: method.localName,
  };
}

/** The grpc-js service definition for a protobuf-es service, for Server.addService and clients. */
export function serviceDefinition<S extends ServiceShape>(service: S): ServiceDef<S> {
  const desc = service as unknown as DescService;
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of desc.methods) def[method.localName] = methodDefinition(desc, method);
  return def as ServiceDef<S>;
}

/** Registers an implementation of a protobuf-es service on a grpc-js server. */
export function addService<S extends ServiceShape>(server: grpc.Server, service: S, impl: ServiceImpl<S>): void {
  const def = serviceDefinition(service);
  // grpc-js types the implementation map as UntypedServiceImplementation; ServiceImpl<S>
  // is the precise form of the same object, keyed by the same localNames.
  server.addService(def as unknown as grpc.ServiceDefinition, impl as unknown as grpc.UntypedServiceImplementation);
}
