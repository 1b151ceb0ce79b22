/**
 * grpc.health.v1.Health: Check and Watch, for the server as a whole ("") and
 * per service. Statuses are set by the server's lifecycle: NOT_SERVING until
 * a model is loaded and again from the moment shutdown begins.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";
import type { ServiceImpl } from "./grpc-adapter.js";

export { ServingStatus };

type WatchCall = grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;

export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<WatchCall>>();

  /** `services`: the names health answers for besides "" (the whole server). */
  constructor(services: readonly string[], initial: ServingStatus = ServingStatus.NOT_SERVING) {
    for (const name of ["", ...services]) this.statuses.set(name, initial);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets every known service (and "") to `status`, notifying watchers of changes. */
  setAll(status: ServingStatus): void {
    for (const name of this.statuses.keys()) this.set(name, status);
  }

  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const call of this.watchers.get(service) ?? []) call.write(response(status));
  }

  /** Ends every Watch call (shutdown), after they have seen the latest status. */
  endWatches(): void {
    for (const calls of this.watchers.values()) for (const call of calls) call.end();
    this.watchers.clear();
  }

  readonly impl: ServiceImpl<typeof Health> = {
    check: (call, callback) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) return callback({ code: grpc.status.NOT_FOUND, details: `unknown service '${call.request.service}'` });
      callback(null, response(status));
    },
    watch: (call) => {
      const name = call.request.service;
      let calls = this.watchers.get(name);
      if (!calls) this.watchers.set(name, (calls = new Set()));
      calls.add(call);
      call.write(response(this.statuses.get(name) ?? ServingStatus.SERVICE_UNKNOWN));
      call.on("cancelled", () => calls.delete(call));
    },
  };
}

function response(status: ServingStatus): HealthCheckResponse {
  return create(HealthCheckResponseSchema, { status });
}
