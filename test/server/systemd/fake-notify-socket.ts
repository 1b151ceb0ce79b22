/**
 * A stand-in for systemd's notify socket: a unix datagram socket that
 * records every message. Node has no unix datagram sockets, so the listener
 * is a few lines of python3 (on every Debian system); like systemd, it
 * closes the file descriptors that systemd-notify sends with BARRIER=1, which
 * is what lets systemd-notify return.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const LISTENER = `
import socket, os, sys, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, typ, payload in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(data.decode().replace("\\n", "|"), flush=True)
`;

export const PYTHON_MISSING = spawnSync("python3", ["-c", "import socket"]).status === 0 ? false : "python3 is not installed (it plays the notify socket)";
export const NOTIFY_MISSING = spawnSync("systemd-notify", ["--version"]).status === 0 ? false : "systemd-notify is not installed (Debian package: systemd)";

export interface FakeNotifySocket {
  readonly path: string;
  /** Every message so far, one string each, lines joined by "|". */
  readonly messages: string[];
  close(): void;
}

export async function startNotifySocket(): Promise<FakeNotifySocket> {
  const socketPath = path.join(mkdtempSync(path.join(tmpdir(), "lafited-notify-")), "notify.sock");
  const child: ChildProcess = spawn("python3", ["-c", LISTENER, socketPath], { stdio: ["ignore", "pipe", "inherit"] });
  const messages: string[] = [];
  let buffer = "";
  await new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === "LISTENING") resolve();
        else messages.push(line);
      }
    });
  });
  return { path: socketPath, messages, close: () => child.kill("SIGKILL") };
}
