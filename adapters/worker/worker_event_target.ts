/**
 * The worker event target: an {@linkcode InProcessEventTarget} for the local
 * side, joined to a message endpoint (a worker, a port, a broadcast channel)
 * that carries envelopes to the other side by structured clone.
 *
 * @module
 */

import { outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, PubSubClosedError, type PubSubError } from "../../core/errors.ts";
import { describe, topicFor } from "../../core/topic.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import type { EnvelopeEvent, EventEnvelope, TypedEvent } from "../../core/types.ts";
import { attachEndpoint, type WorkerEndpoint } from "./endpoint.ts";
import { postFailure, WorkerError } from "./errors.ts";
import { PING_TAG, PONG_TAG, readWireMessage, WIRE_TAG } from "./wire.ts";

/**
 * Options for {@linkcode createWorkerEventTarget}.
 *
 * @example
 * ```ts
 * import type { WorkerEventTargetOptions } from "@alkdev/pubsub/worker";
 *
 * const options: WorkerEventTargetOptions = {
 *   batch: true,
 *   transfer: (envelope) => envelope.payload instanceof ArrayBuffer ? [envelope.payload] : undefined,
 *   onError: (error) => console.warn(error.code, error.message),
 * };
 * ```
 */
export interface WorkerEventTargetOptions {
  /**
   * Called with each error that does not belong to a caller: a malformed
   * tagged message ({@linkcode EnvelopeError}), a message that could not be
   * deserialized (`EnvelopeError`), the worker's uncaught error
   * ({@linkcode WorkerError}), and, with `batch: true`, a payload that could
   * not be cloned ({@linkcode WorkerCloneError}). The target keeps running
   * unless the error means the worker is gone.
   *
   * @default {console.error, prefixed with "[@alkdev/pubsub/worker]"}
   */
  onError?: (error: PubSubError) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
  /**
   * Picks the objects to transfer (move) rather than copy for one envelope,
   * for example its `ArrayBuffer`s. Transferred buffers are detached on this
   * side; the publisher's own local subscribers then get a structured clone
   * of the payload instead, made before the transfer and only when such a
   * subscriber exists. A `BroadcastChannel` cannot transfer: it copies.
   *
   * @default {undefined (everything is copied)}
   */
  transfer?: (envelope: EventEnvelope) => readonly object[] | undefined;
  /**
   * Sends the envelopes published in one tick as one message, flushed in a
   * microtask: several times the throughput for bursts. The cost: the payload
   * is cloned at the end of the tick (mutating it after `publish` in the same
   * tick changes what is sent), and a payload that cannot be cloned is found
   * at the flush, so it is reported through `onError` as a
   * {@linkcode WorkerCloneError} (the rest of the batch is still sent, in
   * order) instead of being thrown by `publish`; local subscribers have
   * already received it.
   *
   * @default {false}
   */
  batch?: boolean;
  /**
   * Whether {@linkcode WorkerEventTarget.close} also closes the endpoint:
   * `terminate()` for a `Worker`, `close()` for a port, a channel or a
   * worker's own scope. The caller owns the endpoint otherwise. An open
   * `BroadcastChannel` (and a started `MessagePort` in Deno, or a running
   * worker in Node) keeps the process alive until it is closed.
   *
   * @default {false}
   */
  closeEndpoint?: boolean;
  /**
   * Detects another side that went away without an event (a web or Deno
   * `Worker` terminated from outside, or hung in a loop; a Deno
   * `MessagePort` whose other end closed): every `interval` ms, if nothing
   * has arrived since the last check, the target posts a ping, which the
   * other side's target answers by itself. If nothing at all (event, batch
   * or pong) has arrived for `timeout` ms, the target closes with reason
   * `"timeout"`, which ends the subscriptions of a pub/sub over it. Checked
   * once per `interval`, so the close comes between `timeout` and
   * `timeout + interval` ms after the last message. The clock starts with the
   * first message from the other side (a worker may take long to load), so a
   * worker that never starts at all is not detected.
   *
   * Off by default: the other side must run this adapter (a plain worker
   * would never answer), a worker busy in synchronous work for longer than
   * `timeout` cannot answer and would be closed as dead, and a
   * `BroadcastChannel` has no single peer to ask. Turn it on for workers that
   * stay responsive, with a `timeout` above their longest synchronous task.
   *
   * @default {undefined (off)}
   */
  liveness?: WorkerLivenessOptions;
}

/**
 * The liveness check of {@linkcode WorkerEventTargetOptions.liveness}.
 *
 * @example
 * ```ts
 * import type { WorkerLivenessOptions } from "@alkdev/pubsub/worker";
 *
 * const liveness: WorkerLivenessOptions = { interval: 1000, timeout: 5000 };
 * ```
 */
export interface WorkerLivenessOptions {
  /** How often to check, in ms (and to ping when the other side has been silent); a positive number. */
  interval: number;
  /** How long silence may last before the other side is taken as gone, in ms; at least `interval`. */
  timeout: number;
}

/**
 * Why a {@linkcode WorkerEventTarget} closed, carried as the `detail` of its
 * `"close"` event:
 * - `"closed"`: {@linkcode WorkerEventTarget.close} was called;
 * - `"exit"`: the Node worker exited (`exitCode` says how);
 * - `"error"`: the web or Deno worker raised an uncaught error (Deno ends the
 *   worker then; `error` holds the {@linkcode WorkerError});
 * - `"endpoint-closed"`: the port's other side closed (Node, and browsers that
 *   fire `close` on ports);
 * - `"timeout"`: the liveness check heard nothing for `liveness.timeout` ms
 *   (see {@linkcode WorkerEventTargetOptions.liveness}).
 *
 * @example
 * ```ts
 * import type { WorkerCloseDetail } from "@alkdev/pubsub/worker";
 *
 * const detail: WorkerCloseDetail = { reason: "exit", exitCode: 1 };
 * ```
 */
export interface WorkerCloseDetail {
  /** Why the target closed. */
  reason: "closed" | "exit" | "error" | "endpoint-closed" | "timeout";
  /** The Node worker's exit code, for `"exit"`. */
  exitCode?: number;
  /** The worker's error, for `"error"`. */
  error?: PubSubError;
}

/**
 * An event target whose events also reach the other side of a message
 * endpoint. Made by {@linkcode createWorkerEventTarget}; see there.
 *
 * Events whose type holds no `:` are not topics: they stay local and are
 * never sent. The target itself dispatches one such event, `"close"`, whose
 * `detail` is a {@linkcode WorkerCloseDetail}.
 *
 * @example
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWorkerEventTarget, type WorkerEventTarget } from "@alkdev/pubsub/worker";
 *
 * const { port1, port2 } = new MessageChannel();
 * const target: WorkerEventTarget = createWorkerEventTarget(port1, { closeEndpoint: true });
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 * target.close(); // dispatches "close", which ends pubsub's subscriptions; closes port1
 * port2.close();
 * ```
 */
export class WorkerEventTarget extends TransportEventTarget {
  readonly #endpoint: WorkerEndpoint;
  readonly #onError: (error: PubSubError) => void;
  readonly #transfer: ((envelope: EventEnvelope) => readonly object[] | undefined) | undefined;
  readonly #batch: boolean;
  readonly #closeEndpoint: boolean;
  #detach: (() => void) | undefined;
  #closed = false;
  /** The pending batch: the tag, then triples. */
  #queue: unknown[] | undefined;
  /** Transfer lists of the pending batch, by triple; undefined while none. */
  #queueTransfers: (readonly object[] | undefined)[] | undefined;
  /** Something arrived since the last liveness check. */
  #heard = false;
  #lastHeard = 0;
  #pings = 0;
  #livenessTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * Constructs a new instance; prefer {@linkcode createWorkerEventTarget}.
   *
   * @param endpoint The endpoint.
   * @param options See {@linkcode WorkerEventTargetOptions}.
   */
  constructor(endpoint: WorkerEndpoint, options: WorkerEventTargetOptions = {}) {
    super(options);
    if (endpoint === null || typeof endpoint !== "object" || typeof endpoint.postMessage !== "function") {
      throw new TypeError(
        `Cannot create a worker event target: expected a Worker, MessagePort, BroadcastChannel or worker scope, got ${
          endpoint === null ? "null" : typeof endpoint
        }`,
      );
    }
    this.#endpoint = endpoint;
    this.#onError = options.onError ?? defaultOnError;
    this.#transfer = options.transfer;
    this.#batch = options.batch === true;
    this.#closeEndpoint = options.closeEndpoint === true;
    const liveness = checkLiveness(options.liveness);
    this.#detach = attachEndpoint(endpoint, {
      message: (data) => {
        this.#heard = true;
        if (readWireMessage(data, this.#deliver, this.#report)) return;
        if (Array.isArray(data) && data[0] === PING_TAG) this.#answer(data[1]);
      },
      messageError: (cause) => {
        this.#report(new EnvelopeError("A message from the other side could not be deserialized", { cause }));
      },
      error: (cause, fatal) => {
        const error = new WorkerError(cause);
        this.#report(error);
        if (fatal) this.#shutdown({ reason: "error", error });
      },
      exit: (exitCode) => this.#shutdown({ reason: "exit", exitCode }),
      closed: () => this.#shutdown({ reason: "endpoint-closed" }),
    });
    if (liveness !== undefined) {
      this.#livenessTimer = setInterval(() => this.#check(liveness), liveness.interval);
    }
  }

  #answer(n: unknown): void {
    try {
      this.#post([PONG_TAG, n], undefined);
    } catch {
      // The other side is gone; its own liveness check (if any) will tell it.
    }
  }

  #check(liveness: WorkerLivenessOptions): void {
    const now = Date.now();
    if (this.#heard) {
      this.#heard = false;
      this.#lastHeard = now;
      return;
    }
    // The clock starts with the first message: a worker may take long to start (load, compile).
    if (this.#lastHeard !== 0 && now - this.#lastHeard >= liveness.timeout) {
      this.#shutdown({ reason: "timeout" });
      return;
    }
    try {
      this.#post([PING_TAG, ++this.#pings], undefined);
    } catch {
      // Cannot reach the other side: the timeout decides.
    }
  }

  /** Whether the target has closed (by {@linkcode WorkerEventTarget.close} or because the other side went away). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends the event's envelope to the other side, then dispatches the event
   * to local listeners (each exactly once). An event whose type holds no `:`
   * is only dispatched locally.
   *
   * @throws {PubSubClosedError} After the target closed.
   * @throws {EnvelopeError} If `detail` is not an envelope for the topic `event.type`.
   * @throws {WorkerCloneError} If the envelope cannot be cloned (unless `batch` is on); nothing was sent or delivered.
   * @throws {WorkerPostError} If `postMessage` fails otherwise (unless `batch` is on); nothing was sent or delivered.
   */
  dispatchEvent(event: EnvelopeEvent): boolean {
    const topic = event.type;
    if (topic.indexOf(":") === -1) return this.dispatchLocal(event);
    if (this.#closed) {
      throw new PubSubClosedError(`Cannot publish to ${JSON.stringify(topic)}: the worker event target is closed`);
    }
    const envelope = outgoingEnvelope(event.detail, topic);
    let local = event;
    const transfer = this.#transfer?.(envelope);
    const transferring = transfer !== undefined && transfer.length > 0;
    if (transferring && this.listenerCount(topic) > 0) {
      // The transfer detaches the buffers here: local listeners get a copy made first.
      let payload: unknown;
      try {
        payload = structuredClone(envelope.payload);
      } catch (error) {
        throw postFailure(envelope.type, envelope.id, error);
      }
      local = new CustomEvent(topic, { detail: { type: envelope.type, id: envelope.id, payload } }) as EnvelopeEvent;
    }
    if (this.#batch) {
      this.#enqueue(envelope, transferring ? transfer : undefined);
    } else {
      try {
        this.#post([WIRE_TAG, envelope.type, envelope.id, envelope.payload], transferring ? transfer : undefined);
      } catch (error) {
        throw postFailure(envelope.type, envelope.id, error);
      }
    }
    return this.dispatchLocal(local);
  }

  /**
   * Closes the target: sends any pending batch, removes the listeners it
   * added to the endpoint, closes the endpoint if `closeEndpoint` is set, and
   * dispatches `"close"` with reason `"closed"`. Local listeners are kept (a
   * pub/sub over this target removes its own on `close()`); publishing
   * afterwards throws {@linkcode PubSubClosedError}. Idempotent.
   */
  close(): void {
    this.#shutdown({ reason: "closed" });
  }

  #deliver = (envelope: EventEnvelope): void => {
    const topic = topicFor(envelope.type, envelope.id);
    // No listener, no event object: the common case for a busy port with few subscribers.
    if (this.listenerCount(topic) === 0) return;
    // Paced: a batch of thousands is delivered over several turns, so consumers that keep up get to drain.
    this.deliverRemote(new CustomEvent(topic, { detail: envelope }) as EnvelopeEvent);
  };

  #report = (error: PubSubError): void => {
    try {
      this.#onError(error);
    } catch (thrown) {
      console.error("[@alkdev/pubsub/worker] onError threw:", thrown);
    }
  };

  #post(message: unknown[], transfer: readonly object[] | undefined): void {
    const endpoint = this.#endpoint as { postMessage(message: unknown, transfer?: readonly object[]): void };
    if (transfer === undefined) endpoint.postMessage(message);
    else endpoint.postMessage(message, transfer);
  }

  #enqueue(envelope: EventEnvelope, transfer: readonly object[] | undefined): void {
    let queue = this.#queue;
    if (queue === undefined) {
      queue = this.#queue = [WIRE_TAG];
      queueMicrotask(this.#flush);
    }
    if (transfer !== undefined) {
      const transfers = this.#queueTransfers ??= [];
      transfers[(queue.length - 1) / 3] = transfer;
    }
    queue.push(envelope.type, envelope.id, envelope.payload);
  }

  #flush = (): void => {
    const queue = this.#queue;
    const transfers = this.#queueTransfers;
    this.#queue = undefined;
    this.#queueTransfers = undefined;
    if (queue === undefined) return;
    try {
      this.#post(queue, transfers === undefined ? undefined : transfers.flat().filter((t) => t !== undefined));
      return;
    } catch {
      // Some payload cannot be cloned: send one by one so only the bad ones are lost.
    }
    for (let i = 1; i < queue.length; i += 3) {
      const type = queue[i] as string, id = queue[i + 1] as string;
      try {
        this.#post([WIRE_TAG, type, id, queue[i + 2]], transfers?.[(i - 1) / 3]);
      } catch (error) {
        this.#report(postFailure(type, id, error));
      }
    }
  };

  #shutdown(detail: WorkerCloseDetail): void {
    if (this.#closed) return;
    if (detail.reason === "closed") this.#flush();
    this.#closed = true;
    clearInterval(this.#livenessTimer);
    this.#livenessTimer = undefined;
    this.#queue = undefined;
    this.#queueTransfers = undefined;
    this.#detach?.();
    this.#detach = undefined;
    if (this.#closeEndpoint) {
      const endpoint = this.#endpoint;
      try {
        if (typeof endpoint.terminate === "function") {
          const done = endpoint.terminate();
          // Node's terminate() returns a promise; its outcome is not ours to report.
          if (done instanceof Promise) done.catch(() => {});
        } else {
          endpoint.close?.();
        }
      } catch (error) {
        console.error("[@alkdev/pubsub/worker] closing the endpoint threw:", error);
      }
    }
    this.emitClose(detail);
  }
}

/**
 * Creates an event target that carries events across a thread boundary by
 * structured clone: to a `Worker` from its parent, to the parent from the
 * worker's `self`, across a `MessagePort` (both ends of a `MessageChannel`),
 * to every other `BroadcastChannel` of the same name, or over Node's
 * `worker_threads` (`Worker` and `parentPort`). Use one on each side.
 *
 * Delivery: what one side publishes reaches the other side's subscribers, and
 * the publisher's own local subscribers, each exactly once, in publish order.
 * Payloads arrive as structured clone leaves them: `undefined`, `Date`, `Map`,
 * `Set`, `RegExp`, `bigint`, typed arrays and cyclic graphs survive; class
 * instances arrive as plain objects (prototype and methods lost); functions
 * and symbols cannot be sent at all ({@linkcode WorkerCloneError}).
 *
 * Nothing ends subscriptions behind your back: listen for the target's
 * `"close"` event (a Node worker's exit, a Deno worker's uncaught error, a
 * port closed on the other side, or {@linkcode WorkerEventTarget.close}) and
 * close the pub/sub there, as in the example.
 *
 * @param endpoint The worker, scope, port or channel; see {@linkcode WorkerEndpoint}.
 * @param options See {@linkcode WorkerEventTargetOptions}.
 * @returns The target; pass it to `createPubSub` as `eventTarget`.
 * @throws {TypeError} If `endpoint` has no `postMessage`.
 *
 * @example Parent side and worker side
 * ```ts ignore
 * // main.ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWorkerEventTarget } from "@alkdev/pubsub/worker";
 *
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * const eventTarget = createWorkerEventTarget(worker, { closeEndpoint: true });
 * const pubsub = createPubSub<{ progress: number }>({ eventTarget }); // ends if the worker exits or crashes
 * for await (const p of pubsub.subscribe("progress", "job-1")) {
 *   if (p === 100) break;
 * }
 * eventTarget.close(); // terminates the worker
 *
 * // worker.ts
 * const workerSide = createPubSub<{ progress: number }>({ eventTarget: createWorkerEventTarget(self) });
 * for (let p = 0; p <= 100; p += 10) workerSide.publish("progress", "job-1", p);
 * ```
 *
 * @example A MessageChannel in one thread
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWorkerEventTarget } from "@alkdev/pubsub/worker";
 *
 * const { port1, port2 } = new MessageChannel();
 * const aTarget = createWorkerEventTarget(port1, { closeEndpoint: true });
 * const bTarget = createWorkerEventTarget(port2, { closeEndpoint: true });
 * const a = createPubSub<{ ping: Date }>({ eventTarget: aTarget });
 * const b = createPubSub<{ ping: Date }>({ eventTarget: bTarget });
 * const sub = b.subscribe("ping", "1");
 * a.publish("ping", "1", new Date(0));
 * console.log((await sub.next()).value instanceof Date); // true
 * a.close();
 * b.close();
 * aTarget.close(); // closes port1
 * bTarget.close(); // closes port2
 * ```
 */
export function createWorkerEventTarget(
  endpoint: WorkerEndpoint,
  options?: WorkerEventTargetOptions,
): WorkerEventTarget {
  return new WorkerEventTarget(endpoint, options);
}

function checkLiveness(liveness: WorkerLivenessOptions | undefined): WorkerLivenessOptions | undefined {
  if (liveness === undefined) return undefined;
  const { interval, timeout } = liveness;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval <= 0) {
    throw new RangeError(`liveness.interval must be a positive number of ms, got ${describe(interval)}`);
  }
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout < interval) {
    throw new RangeError(`liveness.timeout must be a number of ms no less than interval, got ${describe(timeout)}`);
  }
  return { interval, timeout };
}

function defaultOnError(error: PubSubError): void {
  console.error("[@alkdev/pubsub/worker]", error);
}
