#!/usr/bin/python3
"""A lafited client in another language, knowing only the standard protocols.

Test-only: test/interop/python-client.test.ts runs it against a `lafite serve`
daemon. It has its own copies of grpc.health.v1 and grpc.reflection.v1 (in
proto/ next to this file), which it compiles at run time with
grpc_tools.protoc into a descriptor set; it does NOT have lafited's proto.
Everything about lafited (service name, methods, message classes) comes from
the server's reflection: the FileDescriptorProtos go into a
google.protobuf descriptor_pool and message_factory builds the classes. So
this is what any third-party client sees.

Needs Debian's python3-grpcio and python3-grpc-tools (scripts/setup.sh).

Usage: python-client.py ADDRESS SCENARIO [ARGS...]
Prints one JSON object with what it observed; the node test asserts on it.
Exits non-zero only when the client itself fails (a traceback on stderr).
"""
import json
import os
import sys
import tempfile
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
OWN_PROTOS = ["grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto"]
HEALTH = "grpc.health.v1.Health"
REFLECTION = "grpc.reflection.v1.ServerReflection"
RPC_TIMEOUT_S = 30.0


class Pool:
    """Message classes and callables built at run time from FileDescriptorProtos."""

    def __init__(self):
        self.pool = descriptor_pool.DescriptorPool()
        self.factory = message_factory.MessageFactory(self.pool)

    def add_files(self, fdps):
        """Adds files in dependency order (reflection may send them in any order)."""
        todo = {f.name: f for f in fdps}
        while todo:
            ready = [f for f in todo.values() if all(self._has_file(d) or d not in todo for d in f.dependency)]
            if not ready:
                raise RuntimeError("circular or missing dependencies among " + ", ".join(sorted(todo)))
            for f in ready:
                if not self._has_file(f.name):
                    self.pool.Add(f)
                del todo[f.name]

    def _has_file(self, name):
        try:
            self.pool.FindFileByName(name)
            return True
        except KeyError:
            return False

    def message(self, full_name):
        desc = self.pool.FindMessageTypeByName(full_name)
        # GetMessageClass is protobuf >= 4.22; Debian 12 has 4.21 (GetPrototype).
        get = getattr(message_factory, "GetMessageClass", None)
        return get(desc) if get else self.factory.GetPrototype(desc)

    def method(self, channel, service, name):
        """A grpc-python callable for service/name, of the kind its descriptor declares."""
        m = self.pool.FindServiceByName(service).methods_by_name[name]
        proto = descriptor_pb2.MethodDescriptorProto()
        m.CopyToProto(proto)
        req, res = self.message(m.input_type.full_name), self.message(m.output_type.full_name)
        kind = {
            (False, False): channel.unary_unary,
            (False, True): channel.unary_stream,
            (True, False): channel.stream_unary,
            (True, True): channel.stream_stream,
        }[(proto.client_streaming, proto.server_streaming)]
        return kind("/%s/%s" % (service, name), request_serializer=req.SerializeToString, response_deserializer=res.FromString)


def own_protos():
    """The client's two protos, compiled now by Debian's protoc into FileDescriptorProtos."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "own.pb")
        rc = protoc.main(["protoc", "-I" + os.path.join(HERE, "proto"), "--descriptor_set_out=" + out] + OWN_PROTOS)
        if rc != 0:
            raise RuntimeError("grpc_tools.protoc failed (%d) on the client's own protos" % rc)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    return list(fds.file)


class Client:
    def __init__(self, address):
        self.channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        grpc.channel_ready_future(self.channel).result(timeout=RPC_TIMEOUT_S)
        self.own = Pool()
        self.own.add_files(own_protos())
        self.lafited = None
        self.detector = None

    def reflect(self, requests):
        info = self.own.method(self.channel, REFLECTION, "ServerReflectionInfo")
        Req = self.own.message("grpc.reflection.v1.ServerReflectionRequest")
        responses = list(info(iter([Req(**r) for r in requests]), timeout=RPC_TIMEOUT_S))
        for r in responses:
            if r.WhichOneof("message_response") == "error_response":
                raise RuntimeError("reflection error %d: %s" % (r.error_response.error_code, r.error_response.error_message))
        return responses

    def discover(self):
        """Finds the detection service (a *.Detector besides grpc.* and the admin service) and builds its message classes from reflection."""
        (listed,) = self.reflect([{"list_services": ""}])
        services = [s.name for s in listed.list_services_response.service]
        candidates = [s for s in services if not s.startswith("grpc.") and s.endswith(".Detector")]
        if len(candidates) != 1:
            raise RuntimeError("expected one *.Detector service besides grpc.*, got %r" % services)
        self.detector = candidates[0]
        (files,) = self.reflect([{"file_containing_symbol": self.detector}])
        fdps = []
        for raw in files.file_descriptor_response.file_descriptor_proto:
            fdp = descriptor_pb2.FileDescriptorProto()
            fdp.ParseFromString(raw)
            fdps.append(fdp)
        self.lafited = Pool()
        self.lafited.add_files(fdps)
        return services, [f.name for f in fdps]

    def call(self, name, request, timeout=RPC_TIMEOUT_S):
        return self.lafited.method(self.channel, self.detector, name)(request, timeout=timeout)

    def request_class(self, name):
        m = self.lafited.pool.FindServiceByName(self.detector).methods_by_name[name]
        return self.lafited.message(m.input_type.full_name)

    def health(self, service):
        Req = self.own.message("grpc.health.v1.HealthCheckRequest")
        res = self.own.method(self.channel, HEALTH, "Check")(Req(service=service), timeout=RPC_TIMEOUT_S)
        return enum_name(res, "status")


def enum_name(msg, field):
    return msg.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[getattr(msg, field)].name


def rpc_error(err):
    return {"code": err.code().name, "details": err.details()}


def response_summary(res):
    out = {"frame_id": res.frame_id}
    if res.HasField("error"):
        out["error"] = {"code": grpc_code_name(res.error.code), "message": res.error.message}
    else:
        out.update(score=res.score, verdict=enum_name(res, "verdict"), threshold=res.threshold, width=res.width, height=res.height, model_version=res.model_version)
        out.update(frame_class=res.frame_class, judged_class=res.judged_class, class_shares=dict(res.class_shares))
        out.update(look_ratio=res.look_ratio, unlike_any_class=res.unlike_any_class, light_ratio=res.light_ratio)
    return out


def grpc_code_name(number):
    for c in grpc.StatusCode:
        if c.value[0] == number:
            return c.name
    return str(number)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def raw_gray(Req, frame_id, width, height, seed):
    """A raw GRAY8 frame with a gradient, built from the reflected enum (no lafited constants here)."""
    pixels = bytes((x * 7 + y * 3 + seed) % 256 for y in range(height) for x in range(width))
    return Req(frame_id=frame_id, raw={"width": width, "height": height, "pixel_format": pixel_format(Req, "PIXEL_FORMAT_GRAY8"), "pixels": pixels})


def pixel_format(Req, name):
    return Req.DESCRIPTOR.fields_by_name["raw"].message_type.fields_by_name["pixel_format"].enum_type.values_by_name[name].number


# --- scenarios ---------------------------------------------------------------


def scenario_discover(client, _args):
    services, files = client.discover()
    svc = client.lafited.pool.FindServiceByName(client.detector)
    methods = []
    for m in svc.methods:
        p = descriptor_pb2.MethodDescriptorProto()
        m.CopyToProto(p)
        methods.append({"name": m.name, "input": m.input_type.full_name, "output": m.output_type.full_name, "client_streaming": p.client_streaming, "server_streaming": p.server_streaming})
    return {"services": services, "detector": client.detector, "files": files, "methods": methods}


def scenario_model_info(client, _args):
    client.discover()
    info = client.call("GetModelInfo", client.request_class("GetModelInfo")())
    # tau/k/delta_t/steps are one-field oneofs: presence is visible to any client.
    return {
        "version": info.version,
        "scoring_mode": info.scoring_mode,
        "feature_shape": list(info.feature_shape),
        "threshold": info.threshold,
        "present": {f: info.HasField(f) for f in ("tau", "k", "delta_t", "steps")},
        "classes": list(info.classes),
    }


def scenario_detect_one(client, args):
    client.discover()
    Req = client.request_class("DetectOne")
    # An optional second argument: the frame's class tag (the line's recipe).
    res = client.call("DetectOne", Req(frame_id="one", encoded=read(args[0]), class_tag=args[1] if len(args) > 1 else ""))
    return response_summary(res)


def scenario_stream(client, args):
    """COUNT frames on one Detect stream, encoded images and raw gray frames mixed."""
    client.discover()
    count, images = int(args[0]), [read(p) for p in args[1:]]
    Req = client.request_class("Detect")
    sent = []

    def requests():
        for i in range(count):
            fid = "s%d" % i
            sent.append(fid)
            if i % 3 == 2:
                yield raw_gray(Req, fid, 48, 32, i)
            else:
                yield Req(frame_id=fid, encoded=images[i % len(images)])

    got, status = [], {"code": "OK", "details": ""}
    try:
        for res in client.lafited.method(client.channel, client.detector, "Detect")(requests(), timeout=RPC_TIMEOUT_S):
            got.append(response_summary(res))
    except grpc.RpcError as err:
        status = rpc_error(err)
    return {"sent": sent, "responses": got, "status": status}


# Malformed frames of several kinds; each must be refused by itself.
BAD_KINDS = ["no-image", "empty-encoded", "garbage-encoded", "raw-short", "raw-unset-format", "raw-zero-width", "nan-threshold"]


def bad_request(Req, kind, fid, good):
    if kind == "no-image":
        return Req(frame_id=fid)
    if kind == "empty-encoded":
        return Req(frame_id=fid, encoded=b"")
    if kind == "garbage-encoded":
        return Req(frame_id=fid, encoded=b"\x89PNG but not really " + fid.encode())
    if kind == "raw-short":
        r = raw_gray(Req, fid, 8, 8, 0)
        r.raw.pixels = r.raw.pixels[:-1]
        return r
    if kind == "raw-unset-format":
        return Req(frame_id=fid, raw={"width": 2, "height": 2, "pixels": b"\x00" * 4})
    if kind == "raw-zero-width":
        return Req(frame_id=fid, raw={"width": 0, "height": 4, "pixel_format": pixel_format(Req, "PIXEL_FORMAT_GRAY8"), "pixels": b""})
    if kind == "nan-threshold":
        return Req(frame_id=fid, encoded=good, options={"threshold": float("nan")})
    raise ValueError(kind)


def scenario_burst(client, args):
    """BAD malformed frames with GOOD good ones spread among them, on one Detect stream, within DEADLINE_S."""
    client.discover()
    good_n, bad_n, deadline_s, image = int(args[0]), int(args[1]), float(args[2]), read(args[3])
    Req = client.request_class("Detect")
    total = good_n + bad_n
    every = max(1, total // max(1, good_n))
    plan = []  # (frame_id, kind or "good")
    goods = 0
    for i in range(total):
        if goods < good_n and i % every == 0:
            plan.append(("b%d" % i, "good"))
            goods += 1
        else:
            plan.append(("b%d" % i, BAD_KINDS[i % len(BAD_KINDS)]))

    def requests():
        for fid, kind in plan:
            yield Req(frame_id=fid, encoded=image) if kind == "good" else bad_request(Req, kind, fid, image)

    got, status = [], {"code": "OK", "details": ""}
    started = time.monotonic()
    try:
        for res in client.lafited.method(client.channel, client.detector, "Detect")(requests(), timeout=deadline_s):
            got.append({"frame_id": res.frame_id, "code": grpc_code_name(res.error.code) if res.HasField("error") else "OK"})
    except grpc.RpcError as err:
        status = rpc_error(err)
    return {
        "plan": [{"frame_id": f, "kind": k} for f, k in plan],
        "responses": got,
        "status": status,
        "seconds": time.monotonic() - started,
    }


def scenario_garbage(client, args):
    """Garbage in several forms; each must get INVALID_ARGUMENT, and the daemon must stay SERVING."""
    client.discover()
    good = read(args[0])
    Req = client.request_class("DetectOne")
    out = {}

    def unary(label, request):
        try:
            res = client.call("DetectOne", request)
            out[label] = {"code": "OK", "details": "", "frame_id": res.frame_id}
        except grpc.RpcError as err:
            out[label] = rpc_error(err)

    unary("garbage-encoded", Req(frame_id="g1", encoded=bytes((i * 131 + 7) % 256 for i in range(512))))
    unary("raw-unknown-format", Req(frame_id="g2", raw={"width": 2, "height": 2, "pixel_format": 99, "pixels": b"\x00" * 4}))
    # Bytes that are not a DetectRequest at all: a length-delimited field 1 whose length runs past the end.
    not_proto = client.channel.unary_unary("/%s/DetectOne" % client.detector, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        not_proto(b"\x0a\xff\xff\xff\x0f\x01\x02", timeout=RPC_TIMEOUT_S)
        out["not-protobuf"] = {"code": "OK", "details": ""}
    except grpc.RpcError as err:
        out["not-protobuf"] = rpc_error(err)
    # The same garbage inside a stream is a per-frame error; the stream goes on.
    stream = client.lafited.method(client.channel, client.detector, "Detect")
    frames = [Req(frame_id="before", encoded=good), Req(frame_id="junk", encoded=b"GIF89a nonsense"), Req(frame_id="after", encoded=good)]
    try:
        out["stream"] = {"responses": [response_summary(r) for r in stream(iter(frames), timeout=RPC_TIMEOUT_S)], "status": {"code": "OK", "details": ""}}
    except grpc.RpcError as err:
        out["stream"] = {"responses": [], "status": rpc_error(err)}
    out["health_after"] = {name or "(server)": client.health(name) for name in ("", client.detector)}
    out["good_after"] = response_summary(client.call("DetectOne", Req(frame_id="good-after", encoded=good)))
    return out


SCENARIOS = {
    "discover": scenario_discover,
    "model-info": scenario_model_info,
    "detect-one": scenario_detect_one,
    "stream": scenario_stream,
    "burst": scenario_burst,
    "garbage": scenario_garbage,
}


def main(argv):
    if len(argv) < 3 or argv[2] not in SCENARIOS:
        sys.stderr.write("usage: python-client.py ADDRESS {%s} [ARGS...]\n" % "|".join(SCENARIOS))
        return 2
    client = Client(argv[1])
    try:
        result = SCENARIOS[argv[2]](client, argv[3:])
    finally:
        client.channel.close()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
