/**
 * sd_notify for Node without a native module. Node cannot send on a unix
 * datagram socket (dgram is UDP only; net is streams), so each message is
 * sent by Debian's `systemd-notify` as a child process with NOTIFY_SOCKET
 * set. Since systemd 246 it waits for the manager to process the message
 * (BARRIER=1), so systemd still finds the short-lived sender's cgroup. The
 * sender is not the main PID, so the unit needs NotifyAccess=all.
 *
 * Messages go out one at a time; if the previous one is still in flight when
 * the next is asked for (a wedged manager), the new one is dropped rather
 * than piling up children.
 */
import { execFile } from "node:child_process";
import type { Logger } from "../../util/log.js";

export interface Notifier {
  /** Sends VARIABLE=VALUE lines; resolves false when nothing was sent. */
  notify(...assignments: string[]): Promise<boolean>;
}

export class SystemdNotifier implements Notifier {
  private busy = false;
  private broken = false;

  constructor(
    private readonly socket: string,
    private readonly log: Logger,
    private readonly command = "systemd-notify",
    private readonly timeoutMs = 5000,
  ) {}

  notify(...assignments: string[]): Promise<boolean> {
    if (this.broken || this.busy) return Promise.resolve(false);
    this.busy = true;
    return new Promise((resolve) => {
      execFile(this.command, assignments, { env: { NOTIFY_SOCKET: this.socket }, timeout: this.timeoutMs }, (err) => {
        this.busy = false;
        if (err === null) return resolve(true);
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          this.broken = true;
          this.log.error({ command: this.command }, "systemd-notify not found: readiness and watchdog notifications are off (Debian package: systemd)");
        } else {
          this.log.warn({ err, message: assignments.join(" ") }, "systemd-notify failed");
        }
        resolve(false);
      });
    });
  }
}

/** The notifier for this process, or undefined when not started by systemd with Type=notify. */
export function notifierFromEnv(env: Readonly<Record<string, string | undefined>>, log: Logger): SystemdNotifier | undefined {
  const socket = env.NOTIFY_SOCKET;
  return socket === undefined || socket === "" ? undefined : new SystemdNotifier(socket, log);
}
