/**
 * A typed lafited.v1.ModelAdmin client on grpc-js (CLI, tests), built from
 * the same descriptors as the server. Unary calls are derived from the
 * service descriptor; WatchJob is a callback stream.
 */
import { create, type MessageInitShape, type DescMessage } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  ModelAdmin,
  AcceptNormalRequestSchema,
  ConfirmDefectRequestSchema,
  ListAcceptedRequestSchema,
  RemoveAcceptedRequestSchema,
  ListModelsRequestSchema,
  ActivateModelRequestSchema,
  RollbackRequestSchema,
  RunJobRequestSchema,
  ListJobsRequestSchema,
  WatchJobRequestSchema,
  type AcceptResponse,
  type ActivateModelResponse,
  type Job,
  type ListAcceptedResponse,
  type ListJobsResponse,
  type ListModelsResponse,
  type RemoveAcceptedResponse,
} from "../gen/lafited/v1/admin_pb.js";
import { serviceDefinition } from "./grpc-adapter.js";
import { callOptions, createChannel, type CallOptions, type ClientOptions } from "./client.js";

const def = serviceDefinition(ModelAdmin);
type Init<D extends DescMessage> = MessageInitShape<D>;

export class AdminClient {
  readonly raw: grpc.Client;

  constructor(address: string, options: ClientOptions = {}) {
    this.raw = createChannel(address, options);
  }

  close(): void {
    this.raw.close();
  }

  acceptNormal(req: Init<typeof AcceptNormalRequestSchema>, o: CallOptions = {}): Promise<AcceptResponse> {
    return this.unary(def.acceptNormal, create(AcceptNormalRequestSchema, req), o);
  }

  confirmDefect(req: Init<typeof ConfirmDefectRequestSchema>, o: CallOptions = {}): Promise<AcceptResponse> {
    return this.unary(def.confirmDefect, create(ConfirmDefectRequestSchema, req), o);
  }

  listAccepted(req: Init<typeof ListAcceptedRequestSchema> = {}, o: CallOptions = {}): Promise<ListAcceptedResponse> {
    return this.unary(def.listAccepted, create(ListAcceptedRequestSchema, req), o);
  }

  removeAccepted(req: Init<typeof RemoveAcceptedRequestSchema>, o: CallOptions = {}): Promise<RemoveAcceptedResponse> {
    return this.unary(def.removeAccepted, create(RemoveAcceptedRequestSchema, req), o);
  }

  listModels(o: CallOptions = {}): Promise<ListModelsResponse> {
    return this.unary(def.listModels, create(ListModelsRequestSchema), o);
  }

  activateModel(req: Init<typeof ActivateModelRequestSchema>, o: CallOptions = {}): Promise<ActivateModelResponse> {
    return this.unary(def.activateModel, create(ActivateModelRequestSchema, req), o);
  }

  rollback(req: Init<typeof RollbackRequestSchema> = {}, o: CallOptions = {}): Promise<ActivateModelResponse> {
    return this.unary(def.rollback, create(RollbackRequestSchema, req), o);
  }

  runJob(req: Init<typeof RunJobRequestSchema>, o: CallOptions = {}): Promise<Job> {
    return this.unary(def.runJob, create(RunJobRequestSchema, req), o);
  }

  listJobs(req: Init<typeof ListJobsRequestSchema> = {}, o: CallOptions = {}): Promise<ListJobsResponse> {
    return this.unary(def.listJobs, create(ListJobsRequestSchema, req), o);
  }

  /** Calls onJob for the job's record now and after each change; resolves with the last record once it finished. */
  watchJob(id: bigint, onJob: (job: Job) => void = () => {}): Promise<Job> {
    const m = def.watchJob;
    const call = this.raw.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, create(WatchJobRequestSchema, { id }));
    let last: Job | undefined;
    return new Promise((resolve, reject) => {
      call.on("data", (job: Job) => {
        last = job;
        onJob(job);
      });
      call.on("error", reject);
      call.on("end", () => (last ? resolve(last) : reject(new Error(`WatchJob ${id} ended without a record`))));
    });
  }

  private unary<Req, Res>(m: grpc.MethodDefinition<Req, Res>, req: Req, options: CallOptions): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.raw.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new grpc.Metadata(), callOptions(options), (err, res) => {
        if (err) reject(err);
        else if (res === undefined) reject(new Error(`${m.path} returned no message`));
        else resolve(res);
      });
    });
  }
}
