/**
 * Errors specific to the worker adapter. Each is a {@linkcode PubSubError}
 * with a stable `code`.
 *
 * @module
 */

import { PubSubError } from "../../core/errors.ts";

/**
 * Thrown by `publish` (through the target's `dispatchEvent`) when the envelope
 * cannot cross the boundary by structured clone: a payload holding a function,
 * a symbol, a `WeakMap`, a class with private state that clone cannot see, or
 * a transfer list that names a buffer twice or an already detached one. The
 * event was neither sent nor delivered locally, and the target keeps working.
 * The platform's `DataCloneError` is the `cause`.
 *
 * With `batch: true` the error is found when the batch is flushed, so it is
 * reported through `onError` instead of being thrown.
 *
 * @example
 * ```ts
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createWorkerEventTarget, WorkerCloneError } from "@alkdev/pubsub/worker";
 *
 * const { port1, port2 } = new MessageChannel();
 * const eventTarget = createWorkerEventTarget(port1);
 * const pubsub = createPubSub<{ job: unknown }>({ eventTarget });
 * try {
 *   pubsub.publish("job", "1", () => "a function");
 * } catch (error) {
 *   console.log(error instanceof WorkerCloneError, (error as WorkerCloneError).code); // true "ERR_WORKER_DATA_CLONE"
 * }
 * eventTarget.close();
 * port1.close();
 * port2.close();
 * ```
 */
export class WorkerCloneError extends PubSubError {
  /** The event type of the envelope that could not be cloned. */
  readonly type: string;
  /** The id of the envelope that could not be cloned. */
  readonly id: string;

  /**
   * Constructs a new instance.
   *
   * @param type The event type.
   * @param id The id.
   * @param cause The platform's error (usually a `DataCloneError`).
   */
  constructor(type: string, id: string, cause: unknown) {
    super(
      "ERR_WORKER_DATA_CLONE",
      `Cannot send ${JSON.stringify(type)} with id ${JSON.stringify(id)} to the other thread: ` +
        `the payload cannot be cloned (${errorText(cause)})`,
      { cause },
    );
    this.name = "WorkerCloneError";
    this.type = type;
    this.id = id;
  }
}

/**
 * Reported through `onError` when the worker behind a parent-side target
 * raises an uncaught error (a web or Deno `Worker`'s `error` event, a Node
 * `worker_threads` `Worker`'s `"error"` event). The error (or the error
 * event's message) is the `cause`. For a web or Deno `Worker` the target then
 * closes with reason `"error"`; a Node `Worker` closes on the `"exit"` that
 * follows.
 *
 * @example
 * ```ts
 * import { WorkerError } from "@alkdev/pubsub/worker";
 *
 * const error = new WorkerError(new Error("boom"));
 * console.log(error.code, error.message); // "ERR_WORKER_ERROR" "The worker raised an uncaught error: boom"
 * ```
 */
export class WorkerError extends PubSubError {
  /**
   * Constructs a new instance.
   *
   * @param cause The worker's error, or its message.
   */
  constructor(cause: unknown) {
    super("ERR_WORKER_ERROR", `The worker raised an uncaught error: ${errorText(cause)}`, { cause });
    this.name = "WorkerError";
  }
}

/**
 * Raised when the endpoint's `postMessage` fails for a reason other than
 * cloning (for example a closed or broken channel). Thrown by `publish`, or,
 * with `batch: true`, reported through `onError`. The platform's error is the
 * `cause`.
 *
 * @example
 * ```ts
 * import { WorkerPostError } from "@alkdev/pubsub/worker";
 *
 * const error = new WorkerPostError("tick", "1", new TypeError("expected i32"));
 * console.log(error.code); // "ERR_WORKER_POST"
 * ```
 */
export class WorkerPostError extends PubSubError {
  /** The event type of the envelope that could not be sent. */
  readonly type: string;
  /** The id of the envelope that could not be sent. */
  readonly id: string;

  /**
   * Constructs a new instance.
   *
   * @param type The event type.
   * @param id The id.
   * @param cause The platform's error.
   */
  constructor(type: string, id: string, cause: unknown) {
    super(
      "ERR_WORKER_POST",
      `Cannot send ${JSON.stringify(type)} with id ${JSON.stringify(id)} to the other thread: ` +
        `postMessage failed (${errorText(cause)})`,
      { cause },
    );
    this.name = "WorkerPostError";
    this.type = type;
    this.id = id;
  }
}

/** The adapter's error for a failed `postMessage` or `structuredClone`. @internal */
export function postFailure(type: string, id: string, cause: unknown): WorkerCloneError | WorkerPostError {
  const name = cause !== null && typeof cause === "object" ? (cause as { name?: unknown }).name : undefined;
  return name === "DataCloneError" ? new WorkerCloneError(type, id, cause) : new WorkerPostError(type, id, cause);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}
