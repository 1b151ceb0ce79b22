/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha), answered from the
 * protobuf-es descriptors the server is built from, so grpcurl and Postman
 * can call lafited without the .proto files. v1alpha has the same wire format
 * as v1, so it is served by re-encoding its messages through v1.
 */
import { create, createRegistry, fromBinary, toBinary, type DescFile, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflection as ReflectionV1,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceImpl } from "./grpc-adapter.js";

export class ReflectionService {
  private readonly registry: Registry;
  /** Files by their .proto name, e.g. "lafited/v1/detector.proto". */
  private readonly filesByName = new Map<string, DescFile>();

  /** `files`: the files defining the served services; `services`: their fully qualified names. */
  constructor(
    files: readonly DescFile[],
    private readonly services: readonly string[],
  ) {
    this.registry = createRegistry(...files);
    for (const file of files) for (const f of withDependencies(file)) this.filesByName.set(f.proto.name, f);
  }

  /** One answer per request (exported for tests). */
  answer(req: ServerReflectionRequest): ServerReflectionResponse {
    const base = { validHost: req.host, originalRequest: req };
    const r = req.messageRequest;
    const notFound = (what: string) =>
      create(ServerReflectionResponseSchema, { ...base, messageResponse: { case: "errorResponse", value: { errorCode: grpc.status.NOT_FOUND, errorMessage: what } } });
    const files = (file: DescFile | undefined, what: string) =>
      file === undefined
        ? notFound(what)
        : create(ServerReflectionResponseSchema, {
            ...base,
            messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)) } },
          });
    switch (r.case) {
      case "listServices":
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: "listServicesResponse", value: { service: this.services.map((name) => ({ name })) } },
        });
      case "fileByFilename":
        return files(this.filesByName.get(r.value), `file '${r.value}' not found`);
      case "fileContainingSymbol":
        return files(this.fileOfSymbol(r.value), `symbol '${r.value}' not found`);
      case "fileContainingExtension":
        return notFound(`no extension ${r.value.extensionNumber} of '${r.value.containingType}'`);
      case "allExtensionNumbersOfType": {
        if (this.registry.getMessage(r.value) === undefined) return notFound(`type '${r.value}' not found`);
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value, extensionNumber: [] } },
        });
      }
      default:
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: "errorResponse", value: { errorCode: grpc.status.INVALID_ARGUMENT, errorMessage: "empty reflection request" } },
        });
    }
  }

  private fileOfSymbol(name: string): DescFile | undefined {
    const desc = this.registry.get(name);
    if (desc !== undefined) return desc.file;
    // A method or field: look up its parent service or message.
    const parent = this.registry.get(name.slice(0, Math.max(0, name.lastIndexOf("."))));
    if (parent?.kind === "service" && parent.methods.some((m) => `${parent.typeName}.${m.name}` === name)) return parent.file;
    if (parent?.kind === "message" && parent.fields.some((f) => `${parent.typeName}.${f.name}` === name)) return parent.file;
    return undefined;
  }

  readonly implV1: ServiceImpl<typeof ReflectionV1> = {
    serverReflectionInfo: (call) => {
      call.on("data", (req: ServerReflectionRequest) => call.write(this.answer(req)));
      call.on("end", () => call.end());
    },
  };

  readonly implV1alpha: ServiceImpl<typeof v1alpha.ServerReflection> = {
    serverReflectionInfo: (call) => {
      call.on("data", (req: v1alpha.ServerReflectionRequest) => {
        const res = this.answer(fromBinary(ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, req)));
        call.write(fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(ServerReflectionResponseSchema, res)));
      });
      call.on("end", () => call.end());
    },
  };
}

/** The file followed by its transitive imports, each once. */
function withDependencies(file: DescFile): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.set(f.name, f);
    for (const dep of f.dependencies) visit(dep);
  };
  visit(file);
  return [...seen.values()];
}
