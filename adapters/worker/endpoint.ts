/**
 * The endpoints the worker adapter accepts, as structural types, and the one
 * place that knows how to listen to each style: the web's
 * `addEventListener("message")` (events carry `data`) and Node's
 * `on("message")` (listeners get the value itself).
 *
 * @module
 */

/**
 * A web-style endpoint: a `Worker` (parent side), a worker's global scope
 * (`self`), a `MessagePort` or a `BroadcastChannel`, in Deno, browsers or
 * Node (Node's `MessagePort` and `BroadcastChannel` have this shape too).
 *
 * @example
 * ```ts
 * import type { WebMessageEndpoint } from "@alkdev/pubsub/worker";
 *
 * const { port1, port2 } = new MessageChannel();
 * const endpoint: WebMessageEndpoint = port1;
 * port1.close();
 * port2.close();
 * ```
 */
export interface WebMessageEndpoint {
  /** Sends a message by structured clone, moving the objects in `transfer`. */
  postMessage(message: unknown, transfer?: object[]): void;
  /** Adds a listener (`"message"`, `"messageerror"`, `"error"`, `"close"`). */
  // deno-lint-ignore no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void;
  /** Removes a listener. */
  // deno-lint-ignore no-explicit-any
  removeEventListener(type: string, listener: (event: any) => void): void;
  /** Starts delivery on a `MessagePort`; called once by the adapter when present. */
  start?(): void;
  /** Closes a port or channel, or ends a worker from inside; used only with `closeEndpoint: true`. */
  close?(): void;
  /** Ends a worker from the parent side; used only with `closeEndpoint: true`. */
  terminate?(): unknown;
}

/**
 * A Node `EventEmitter`-style endpoint: a `worker_threads` `Worker` (parent
 * side) or `parentPort` (which also has the web shape; the web shape is
 * preferred when both exist).
 *
 * @example
 * ```ts
 * import type { NodeMessageEndpoint } from "@alkdev/pubsub/worker";
 *
 * // In Node: `const endpoint: NodeMessageEndpoint = new Worker(file);`
 * const endpoint: NodeMessageEndpoint | undefined = undefined;
 * ```
 */
export interface NodeMessageEndpoint {
  /** Sends a message by structured clone, moving the objects in `transferList`. */
  postMessage(message: unknown, transferList?: readonly object[]): void;
  /** Adds a listener (`"message"`, `"messageerror"`, `"error"`, `"exit"`, `"close"`). */
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener added with `on`. */
  // deno-lint-ignore no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
  /** Starts delivery on a port; called once by the adapter when present. */
  start?(): void;
  /** Closes a port; used only with `closeEndpoint: true`. */
  close?(): void;
  /** Ends a worker from the parent side; used only with `closeEndpoint: true`. */
  terminate?(): unknown;
}

/**
 * Anything {@linkcode createWorkerEventTarget} accepts.
 *
 * @example
 * ```ts
 * import type { WorkerEndpoint } from "@alkdev/pubsub/worker";
 *
 * const channel: WorkerEndpoint = new BroadcastChannel("events");
 * (channel as BroadcastChannel).close();
 * ```
 */
export type WorkerEndpoint = WebMessageEndpoint | NodeMessageEndpoint;

/** What the adapter hears from an endpoint. @internal */
export interface EndpointHandlers {
  /** A message's data. */
  message(data: unknown): void;
  /** A message that could not be deserialized. */
  messageError(cause: unknown): void;
  /** A worker's uncaught error (parent side); `fatal` when the worker is known to be gone or no exit will follow. */
  error(cause: unknown, fatal: boolean): void;
  /** A Node worker's exit. */
  exit(code: number | undefined): void;
  /** A port whose other side closed (Node; browsers that fire `close` on ports). */
  closed(): void;
}

/**
 * Listens to `endpoint` and starts it; returns the function that removes every
 * listener it added. @internal
 */
export function attachEndpoint(endpoint: WorkerEndpoint, handlers: EndpointHandlers): () => void {
  const isWorker = typeof endpoint.terminate === "function";
  const isPort = !isWorker && typeof endpoint.start === "function";
  const removers: (() => void)[] = [];

  const web = endpoint as Partial<WebMessageEndpoint>;
  if (typeof web.addEventListener === "function" && typeof web.removeEventListener === "function") {
    const add = (type: string, listener: (event: Event) => void): void => {
      web.addEventListener!(type, listener);
      removers.push(() => web.removeEventListener!(type, listener));
    };
    add("message", (event) => handlers.message((event as MessageEvent).data));
    add("messageerror", (event) => handlers.messageError(event));
    if (isWorker) {
      add("error", (event) => {
        // The error is reported through onError; keep it from also ending the parent process.
        event.preventDefault();
        const e = event as ErrorEvent;
        handlers.error(e.error ?? e.message, true);
      });
    }
    if (isPort) add("close", () => handlers.closed());
  } else {
    const node = endpoint as NodeMessageEndpoint;
    // deno-lint-ignore no-explicit-any
    const on = (type: string, listener: (...args: any[]) => void): void => {
      node.on(type, listener);
      removers.push(() => node.off(type, listener));
    };
    on("message", (data: unknown) => handlers.message(data));
    on("messageerror", (cause: unknown) => handlers.messageError(cause));
    if (isWorker) {
      // A Node worker emits "exit" after "error", so the error alone does not close.
      on("error", (cause: unknown) => handlers.error(cause, false));
      on("exit", (code: number) => handlers.exit(code));
    }
    if (isPort) on("close", () => handlers.closed());
  }
  // Deno (and the web) deliver nothing on a MessagePort until start() is called.
  endpoint.start?.();
  return () => {
    for (const remove of removers) remove();
    removers.length = 0;
  };
}
