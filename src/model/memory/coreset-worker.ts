/**
 * Helper thread of greedyCoreset: sleeps on the shared generation word and,
 * each time it changes, claims chunks of the current task alongside the main
 * thread, using the same kernels so results never depend on who ran a chunk.
 */
import { workerData } from "node:worker_threads";
import { CTRL_ARG, CTRL_GEN, CTRL_TASK, TASK_EXIT, drainChunks, threadKernel, type SharedState } from "./coreset.js";

const state = workerData as SharedState;
const { control } = state;
const kernel = threadKernel(state);

let gen = 0;
for (;;) {
  Atomics.wait(control, CTRL_GEN, gen);
  gen = Atomics.load(control, CTRL_GEN);
  const task = Atomics.load(control, CTRL_TASK);
  if (task === TASK_EXIT) break;
  drainChunks(state, gen, task, Atomics.load(control, CTRL_ARG), kernel);
}
