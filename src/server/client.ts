/**
 * A small typed lafited client on grpc-js, built from the same protobuf-es
 * descriptors as the server. Used by the CLI (detect, health), the tests and
 * the bench.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Detector as DetectorDesc,
  DetectRequestSchema,
  GetModelInfoRequestSchema,
  type DetectRequest,
  type DetectResponse,
  type ModelInfo,
} from "../gen/lafited/v1/detector_pb.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckResponse } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection, ServerReflectionRequestSchema, type ServerReflectionRequest, type ServerReflectionResponse } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { serviceDefinition } from "./grpc-adapter.js";
import { bearerInterceptor } from "./client-credentials.js";

export { ServingStatus };
export type DetectRequestInit = MessageInitShape<typeof DetectRequestSchema>;

export interface ClientOptions {
  /** Largest response accepted; default 64 MiB (heatmaps of big frames). */
  readonly maxReceiveMessageBytes?: number;
  readonly channelOptions?: grpc.ChannelOptions;
  /** TLS (see client-credentials.ts); default plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Bearer token sent on every call. */
  readonly token?: string;
}

export interface CallOptions {
  /** Milliseconds from now until the call's deadline. */
  readonly timeoutMs?: number;
}

const detectorDef = serviceDefinition(DetectorDesc);
const healthDef = serviceDefinition(Health);
const reflectionDef = serviceDefinition(ServerReflection);

/** A grpc.ServiceError with its status code. */
export type CallError = grpc.ServiceError;

/** The one place a grpc-js channel to a daemon is made (LafitedClient, AdminClient): credentials and limits. */
export function createChannel(address: string, options: ClientOptions = {}): grpc.Client {
  return new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
    "grpc.max_send_message_length": -1,
    ...options.channelOptions,
    ...(options.token !== undefined ? { interceptors: [bearerInterceptor(options.token)] } : {}),
  });
}

export class LafitedClient {
  readonly raw: grpc.Client;

  constructor(address: string, options: ClientOptions = {}) {
    this.raw = createChannel(address, options);
  }

  close(): void {
    this.raw.close();
  }

  /** Resolves when the channel is connected, or rejects after timeoutMs. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => this.raw.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())));
  }

  detectOne(request: DetectRequestInit, options: CallOptions = {}): Promise<DetectResponse> {
    const m = detectorDef.detectOne;
    return this.unary(m.path, m.requestSerialize, m.responseDeserialize, create(DetectRequestSchema, request), options);
  }

  getModelInfo(options: CallOptions = {}): Promise<ModelInfo> {
    const m = detectorDef.getModelInfo;
    return this.unary(m.path, m.requestSerialize, m.responseDeserialize, create(GetModelInfoRequestSchema), options);
  }

  /** The health of `service` ("" = the whole server). */
  async health(service = "", options: CallOptions = {}): Promise<ServingStatus> {
    const m = healthDef.check;
    const res = await this.unary(m.path, m.requestSerialize, m.responseDeserialize, create(HealthCheckRequestSchema, { service }), options);
    return res.status;
  }

  /** Health updates for `service` until cancel(); the first one is the current status. */
  watchHealth(service: string, onStatus: (status: ServingStatus) => void, onEnd?: (err?: Error) => void): { cancel(): void } {
    const m = healthDef.watch;
    const call = this.raw.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, create(HealthCheckRequestSchema, { service }));
    call.on("data", (res: HealthCheckResponse) => onStatus(res.status));
    call.on("error", (err: Error) => onEnd?.(err));
    call.on("end", () => onEnd?.());
    return { cancel: () => call.cancel() };
  }

  /** Opens one Detect stream. */
  openDetect(options: CallOptions = {}): DetectStream {
    const m = detectorDef.detect;
    const call = this.raw.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(), callOptions(options));
    return new DetectStream(call);
  }

  /**
   * Streams `requests` over one Detect call, honouring flow control, and
   * calls onResponse for each response in order. Resolves with the final
   * status once the server ends the call.
   */
  async detectMany(requests: Iterable<DetectRequestInit> | AsyncIterable<DetectRequestInit>, onResponse: (res: DetectResponse) => void, options: CallOptions = {}): Promise<grpc.StatusObject> {
    const stream = this.openDetect(options);
    const reading = (async () => {
      for await (const res of stream) onResponse(res);
    })();
    try {
      for await (const req of requests) await stream.send(req);
      stream.end();
    } catch (err) {
      stream.cancel();
      throw err;
    }
    await reading;
    return stream.status;
  }

  /** One reflection request/response over a fresh v1 stream (tests, diagnostics). */
  async reflect(request: MessageInitShape<typeof ServerReflectionRequestSchema>, options: CallOptions = {}): Promise<ServerReflectionResponse> {
    const m = reflectionDef.serverReflectionInfo;
    const call = this.raw.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(), callOptions(options));
    return new Promise((resolve, reject) => {
      call.once("data", (res: ServerReflectionResponse) => {
        resolve(res);
        call.end();
      });
      call.on("error", reject);
      call.write(create(ServerReflectionRequestSchema, request) as ServerReflectionRequest);
    });
  }

  private unary<Req, Res>(path: string, serialize: (r: Req) => Buffer, deserialize: (b: Buffer) => Res, req: Req, options: CallOptions): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(path, serialize, deserialize, req, new grpc.Metadata(), callOptions(options), (err, res) => {
        if (err) reject(err);
        else if (res === undefined) reject(new Error(`${path} returned no message`));
        else resolve(res);
      });
    });
  }
}

/** One open Detect call: send frames, iterate responses, await the status. */
export class DetectStream implements AsyncIterable<DetectResponse> {
  /** The call's final status (OK or the error); never rejects. */
  readonly status: Promise<grpc.StatusObject>;
  private readonly responses: AsyncIterator<DetectResponse>;

  constructor(private readonly call: grpc.ClientDuplexStream<DetectRequest, DetectResponse>) {
    this.status = new Promise((resolve) => call.on("status", resolve));
    // Errors end iteration; the status promise carries them, so do not crash on 'error'.
    call.on("error", () => {});
    this.responses = iterateUntilEnd(call);
  }

  /** Sends one frame; resolves when the transport can take more (flow control). */
  send(request: DetectRequestInit): Promise<void> {
    const ok = this.call.write(create(DetectRequestSchema, request));
    if (ok) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.call.off("drain", done);
        this.call.off("close", done);
        resolve();
      };
      this.call.once("drain", done);
      this.call.once("close", done);
    });
  }

  /** Writes without waiting (a client that ignores flow control). */
  sendNow(request: DetectRequestInit): boolean {
    return this.call.write(create(DetectRequestSchema, request));
  }

  /** Half-closes: no more frames; responses keep coming. */
  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }

  [Symbol.asyncIterator](): AsyncIterator<DetectResponse> {
    return this.responses;
  }
}

/** Iterates a readable's objects until it ends or errors (the error is left to the status). */
async function* iterateUntilEnd<T>(stream: NodeJS.ReadableStream): AsyncGenerator<T> {
  try {
    for await (const item of stream) yield item as T;
  } catch {
    // the call ended with a non-OK status; DetectStream.status has it
  }
}

export function callOptions(options: CallOptions): grpc.CallOptions {
  return options.timeoutMs !== undefined ? { deadline: Date.now() + options.timeoutMs } : {};
}

/** "SERVING", "NOT_SERVING", ... */
export function servingStatusName(status: ServingStatus): string {
  return ServingStatus[status] ?? `UNKNOWN(${status})`;
}
