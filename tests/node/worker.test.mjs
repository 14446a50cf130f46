// The worker adapter through the npm package on Node: node:worker_threads
// (the parent's Worker, an EventEmitter, and the worker's parentPort, a web-style
// MessagePort), Node's MessageChannel and BroadcastChannel, and that a process
// exits on its own once a worker went away mid-stream or the targets closed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { createPubSub } from "@alkdev/pubsub";
import { createWorkerEventTarget, WorkerCloneError } from "@alkdev/pubsub/worker";

const MS = 15_000;
// The worker and the child process import the package by absolute URL, so they
// find the same installed copy as this file, wherever it was installed.
const urls = { pubsub: import.meta.resolve("@alkdev/pubsub"), worker: import.meta.resolve("@alkdev/pubsub/worker") };

// Worker code (CommonJS, run with eval: true). It echoes "ping" as "pong",
// streams "tick" on command, and closes its own target on command, after which
// nothing keeps the thread alive and it exits.
const workerCode = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { createPubSub } = await import(workerData.pubsub);
  const { createWorkerEventTarget } = await import(workerData.worker);
  const target = createWorkerEventTarget(parentPort);
  const pubsub = createPubSub({ eventTarget: target });
  const pings = pubsub.subscribe("ping", "echo");
  const commands = pubsub.subscribe("command", "w");
  (async () => { for await (const p of pings) pubsub.publish("pong", "echo", p); })();
  pubsub.publish("status", "w", "ready");
  let timer;
  for await (const command of commands) {
    if (command === "stream") { let n = 0; timer = setInterval(() => pubsub.publish("tick", "w", n++), 1); }
    if (command === "close") { clearInterval(timer); pubsub.close(); target.close(); }
  }
})();
`;

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function take(sub, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await within(sub.next(), MS, `value ${i + 1} of ${n}`);
    assert.equal(r.done, false, `Subscription ended after ${out.length} values`);
    out.push(r.value);
  }
  return out;
}

function startWorker() {
  const worker = new Worker(workerCode, { eval: true, workerData: urls });
  const errors = [];
  const target = createWorkerEventTarget(worker, { onError: (e) => errors.push(e) });
  const pubsub = createPubSub({ eventTarget: target });
  const closed = new Promise((resolve) =>
    target.addEventListener("close", (event) => {
      pubsub.close();
      resolve(event.detail);
    }, { once: true })
  );
  return { worker, target, pubsub, errors, closed };
}

test("worker_threads: round trip keeps values and order; the worker closing its side ends with exit", async () => {
  const w = startWorker();
  const status = w.pubsub.subscribe("status", "w");
  assert.deepEqual(await take(status, 1), ["ready"]);
  const pongs = w.pubsub.subscribe("pong", "echo", { bufferSize: 5000 });
  const own = w.pubsub.subscribe("ping", "echo", { bufferSize: 5000 });
  const payloads = [null, undefined, 0, "", false, 10n, new Date(0), new Map([["a", 1]]), new Uint8Array([1, 2])];
  for (const p of payloads) w.pubsub.publish("ping", "echo", p);
  for (let i = 0; i < 2000; i++) w.pubsub.publish("ping", "echo", i);
  const expected = [...payloads, ...Array.from({ length: 2000 }, (_, i) => i)];
  assert.deepStrictEqual(await take(pongs, expected.length), expected);
  assert.deepStrictEqual(await take(own, expected.length), expected); // local delivery, exactly once
  w.pubsub.publish("command", "w", "close");
  const detail = await within(w.closed, MS, "the close event");
  assert.deepEqual(detail, { reason: "exit", exitCode: 0 });
  assert.equal(w.target.closed, true);
  assert.deepEqual(w.errors, []);
});

test("worker_threads: a worker terminated mid-stream closes the target and ends pending iterators", async () => {
  const w = startWorker();
  assert.deepEqual(await take(w.pubsub.subscribe("status", "w"), 1), ["ready"]);
  const ticks = w.pubsub.subscribe("tick", "w", { overflow: "drop-oldest" });
  w.pubsub.publish("command", "w", "stream");
  await take(ticks, 3);
  const pending = ticks.next();
  await w.worker.terminate(); // from outside the adapter
  const detail = await within(w.closed, MS, "the close event");
  assert.equal(detail.reason, "exit");
  assert.equal(typeof detail.exitCode, "number");
  let result = await within(pending, MS, "the pending next()");
  while (!result.done) result = await within(ticks.next(), MS, "the end");
  assert.equal(w.pubsub.closed, true);
});

test("MessageChannel: an uncloneable payload throws at publish, the target keeps working; a closed peer port closes it", async () => {
  const { port1, port2 } = new MessageChannel();
  const a = createWorkerEventTarget(port1);
  const b = createWorkerEventTarget(port2, { closeEndpoint: true });
  const pa = createPubSub({ eventTarget: a });
  const pb = createPubSub({ eventTarget: b });
  const sub = pb.subscribe("job", "1");
  assert.throws(() => pa.publish("job", "1", () => 1), (error) => {
    assert.ok(error instanceof WorkerCloneError);
    assert.equal(error.code, "ERR_WORKER_DATA_CLONE");
    return true;
  });
  pa.publish("job", "1", "fine");
  assert.deepEqual(await take(sub, 1), ["fine"]);
  const closed = new Promise((resolve) => a.addEventListener("close", (e) => resolve(e.detail), { once: true }));
  b.close(); // closes port2: Node tells port1
  assert.deepEqual(await within(closed, MS, "the close event"), { reason: "endpoint-closed" });
  pa.close();
  pb.close();
});

// Run in a child process: if anything (worker, port, channel) stayed referenced, it would not exit.
const childScript = `
const { Worker } = await import("node:worker_threads");
const { createPubSub } = await import(process.env.PUBSUB_URL);
const { createWorkerEventTarget } = await import(process.env.WORKER_URL);
const workerData = { pubsub: process.env.PUBSUB_URL, worker: process.env.WORKER_URL };
// execArgv: [] so the eval code is not read as a module (this process runs with --input-type=module).
const worker = new Worker(process.env.WORKER_CODE, { eval: true, workerData, execArgv: [] });
const target = createWorkerEventTarget(worker);
const pubsub = createPubSub({ eventTarget: target });
target.addEventListener("close", (e) => { console.log("close", e.detail.reason); pubsub.close(); });
const ticks = pubsub.subscribe("tick", "w", { overflow: "drop-oldest" });
for await (const s of pubsub.subscribe("status", "w")) break;
pubsub.publish("command", "w", "stream");
let n = 0;
for await (const _ of ticks) if (++n === 5) worker.terminate();
console.log("iterator ended");
const channel = createWorkerEventTarget(new BroadcastChannel("exit-test"), { closeEndpoint: true });
const bc = createPubSub({ eventTarget: channel });
const self = bc.subscribe("x", "1");
bc.publish("x", "1", "local");
console.log("broadcast", (await self.next()).value);
bc.close();
channel.close();
const { port1, port2 } = new MessageChannel();
const portTarget = createWorkerEventTarget(port1);
portTarget.close(); // removes its listener: port1 no longer holds the process
port2.close();
console.log("done");
`;

test("the process exits on its own after a worker was terminated mid-stream and the targets closed", async () => {
  const child = spawn(process.execPath, ["--input-type=module", "-e", childScript], {
    env: { ...process.env, PUBSUB_URL: urls.pubsub, WORKER_URL: urls.worker, WORKER_CODE: workerCode },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await within(
    new Promise((resolve) => child.on("exit", (c) => resolve(c))),
    MS,
    "the child process to exit",
  ).catch((error) => {
    child.kill();
    throw error;
  });
  assert.equal(code, 0, err);
  assert.deepEqual(out.trim().split("\n"), ["close exit", "iterator ended", "broadcast local", "done"]);
});
