/**
 * Runs a daemon entry point as a child process and resolves once it logged
 * "ready", with the port it logged on "listening" (start it on port 0).
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exit: Promise<number | null>;
  log(): string;
}

export interface SpawnOptions {
  /** The program to run (default: this node); e.g. "npm" to start the daemon as `npm start` does. */
  readonly command?: string;
  readonly cwd?: string;
}

export function spawnDaemon(args: readonly string[], env: Record<string, string>, options: SpawnOptions = {}): Promise<DaemonProcess> {
  const child = spawn(options.command ?? process.execPath, [...args], {
    env: { PATH: process.env.PATH ?? "", LAFITED_LISTEN: "127.0.0.1:0", LAFITED_METRICS_LISTEN: "127.0.0.1:0", LAFITED_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let stderr = "";
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let port = 0;
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of stderr.split("\n")) {
        if (!line.startsWith("{")) continue;
        const ev = JSON.parse(line) as { msg?: string; port?: number };
        if (ev.msg === "listening" && ev.port) port = ev.port;
        if (ev.msg === "ready") resolve({ child, port, exit, log: () => stderr });
      }
    });
    void exit.then((code) => reject(new Error(`daemon exited with ${code} before ready:\n${stderr}`)));
  });
}
