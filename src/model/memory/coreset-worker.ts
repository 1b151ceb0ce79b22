/**
 * Worker side of greedyCoreset: waits on the shared control word, runs its
 * row range of the current task with the same kernels as the main thread
 * (so results do not depend on the thread count), and reports done.
 */
import { workerData } from "node:worker_threads";
import {
  CTRL_ARG, CTRL_DONE, CTRL_GEN, CTRL_TASK, TASK_EXIT, TASK_PROJECT, TASK_UPDATE,
  projectRows, updateMinDistances, type WorkerInit,
} from "./coreset.js";

const init = workerData as WorkerInit;
const { id, control, slots } = init;
const done = CTRL_DONE + id;

let gen = 0;
Atomics.store(control, done, gen);
Atomics.notify(control, done);
for (;;) {
  Atomics.wait(control, CTRL_GEN, gen);
  gen = Atomics.load(control, CTRL_GEN);
  const task = control[CTRL_TASK];
  if (task === TASK_EXIT) break;
  const lo = slots[id * 3]!;
  const hi = slots[id * 3 + 1]!;
  if (task === TASK_PROJECT) {
    projectRows(init.features, init.c, init.projection!, init.d, init.points, lo, hi);
  } else if (task === TASK_UPDATE && hi > lo) {
    slots[id * 3 + 2] = updateMinDistances(init.points, init.d, init.minDist, control[CTRL_ARG]!, lo, hi);
  }
  Atomics.store(control, done, gen);
  Atomics.notify(control, done);
}
