/**
 * Debian's Python with python3-grpcio and python3-grpc-tools, for the
 * cross-language tests. The path is fixed: `python3` on PATH may be another
 * interpreter (e.g. pyenv's) without those packages. A missing package is a
 * failure with the fix in the message, never a skip: CI gets them from
 * scripts/setup.sh, and a silently skipped interop test proves nothing.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PYTHON = "/usr/bin/python3";

/** test/interop/ in the source tree (the .py client and its protos are not compiled into dist/). */
export const INTEROP_DIR = fileURLToPath(new URL("../../../../test/interop/", import.meta.url));

/** The repository's proto/ folder. */
export const PROTO_DIR = fileURLToPath(new URL("../../../../proto/", import.meta.url));

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs PYTHON with `args`; resolves with the exit code and output, whatever the code. */
export function runPython(args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number" && !err.killed) return reject(new Error(`cannot run ${PYTHON}: ${err.message}`));
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
  });
}

/** Throws, saying how to fix it, unless PYTHON can import grpc and grpc_tools. */
export async function requirePythonGrpc(): Promise<void> {
  const res = await runPython(["-c", "import grpc, grpc_tools.protoc, google.protobuf"], 30_000).catch((err: Error) => ({ code: -1, stdout: "", stderr: err.message }));
  if (res.code !== 0) {
    throw new Error(
      `the interop tests need ${PYTHON} with Debian's python3-grpcio and python3-grpc-tools; ` +
        `install them with scripts/setup.sh (or apt-get install -y python3-grpcio python3-grpc-tools).\n${res.stderr.trim()}`,
    );
  }
}
