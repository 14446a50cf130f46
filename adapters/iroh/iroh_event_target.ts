/**
 * Hub and spoke event targets over one bidirectional iroh (QUIC) stream per
 * connection, carrying length-prefixed encoded envelopes.
 *
 * @module
 */

import { type Codec, decodeEnvelope, jsonCodec, outgoingEnvelope } from "../../core/envelope.ts";
import { EnvelopeError, FrameTooLargeError, PubSubClosedError, PubSubError } from "../../core/errors.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameEncoder, TruncatedFrameError } from "../../core/framing.ts";
import { describe, topicFor } from "../../core/topic.ts";
import { TransportEventTarget } from "../../core/transport_event_target.ts";
import type { EnvelopeEvent, EventEnvelope, TypedEvent, TypedEventTarget } from "../../core/types.ts";
import { IROH_CLOSE_CODES, IrohConnectionError, IrohOutboxFullError, IrohPeerRefusedError } from "./errors.ts";
import type { IrohBiStreamLike, IrohConnectionLike, IrohRecvStreamLike, IrohSendStreamLike } from "./types.ts";

/**
 * Options for {@linkcode createSpokeIrohEventTarget} and
 * {@linkcode createHubIrohEventTarget}.
 *
 * @example
 * ```ts
 * import type { IrohEventTargetOptions } from "@alkdev/pubsub/iroh";
 *
 * const options: IrohEventTargetOptions = {
 *   maxFrameBytes: 64 * 1024,
 *   onError: (error) => console.warn(error.code, error.message),
 * };
 * ```
 */
export interface IrohEventTargetOptions {
  /**
   * Encodes envelopes into frame bodies and back. Both sides must use the same.
   *
   * @default {jsonCodec}
   */
  codec?: Codec;
  /**
   * The largest frame body, in bytes, in either direction. A larger incoming
   * length prefix closes the connection with code 1 (`frameTooLarge`) before
   * anything is allocated; a larger outgoing envelope makes `dispatchEvent`
   * throw {@linkcode FrameTooLargeError}.
   *
   * @default {1048576}
   */
  maxFrameBytes?: number;
  /**
   * The most bytes queued for the stream and not yet written. While the outbox
   * holds this much or more, `dispatchEvent` (so `publish`) throws
   * {@linkcode IrohOutboxFullError} and neither sends nor delivers the event;
   * memory stays under `maxOutboxBytes + maxFrameBytes`.
   *
   * @default {8388608}
   */
  maxOutboxBytes?: number;
  /**
   * The most bytes asked of the binding per `read` call.
   *
   * @default {65536}
   */
  readChunkBytes?: number;
  /**
   * How long opening (or accepting) the stream and the hello exchange may take.
   * On expiry the connection is closed with code 4 (`timeout`) and the factory
   * rejects.
   *
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /**
   * How long a graceful close waits for the peer to finish its side. On expiry
   * the connection is closed with code 4 (`timeout`).
   *
   * @default {5000}
   */
  closeTimeoutMs?: number;
  /**
   * The error channel: bad frames from the peer ({@linkcode EnvelopeError}, the
   * connection stays open), and failures that close the connection
   * ({@linkcode FrameTooLargeError}, {@linkcode TruncatedFrameError},
   * {@linkcode IrohConnectionError}, {@linkcode IrohPeerRefusedError}).
   * Failures while opening reject the factory instead.
   *
   * @default {(error) => console.error("[@alkdev/pubsub/iroh]", error)}
   */
  onError?: (error: PubSubError) => void;
  /**
   * Called when a local listener throws; delivery to the other listeners goes on.
   *
   * @default {console.error}
   */
  onListenerError?: (error: unknown, event: TypedEvent) => void;
}

/**
 * Options for {@linkcode createHubIrohEventTarget}.
 *
 * @example Only known spokes
 * ```ts
 * import type { HubIrohEventTargetOptions } from "@alkdev/pubsub/iroh";
 *
 * const known = new Set(["b48dda4bbae76b048f15de93f1f5f4203ca7fe834cee0bd04a05a4293cc3a44a"]);
 * const options: HubIrohEventTargetOptions = { allow: (remoteId) => known.has(remoteId) };
 * ```
 */
export interface HubIrohEventTargetOptions extends IrohEventTargetOptions {
  /**
   * Decides, before the stream is accepted, whether the spoke's EndpointId (as
   * `String(conn.remoteId())`) may connect. Returning `false`, throwing or
   * rejecting closes the connection with code 3 (`refused`), and the factory
   * rejects with {@linkcode IrohPeerRefusedError}.
   *
   * @default {undefined} (every endpoint is allowed)
   */
  allow?: (remoteId: string) => boolean | Promise<boolean>;
}

/**
 * How a target's connection ended, as `closed` resolves with it and the
 * `"close"` event carries it in `detail`.
 *
 * @example
 * ```ts
 * import type { IrohCloseInfo } from "@alkdev/pubsub/iroh";
 *
 * const info: IrohCloseInfo = { code: 0, reason: "closed", error: undefined };
 * ```
 */
export interface IrohCloseInfo {
  /** The application close code ({@linkcode IROH_CLOSE_CODES}), if one is known. */
  code: number | undefined;
  /** A short description. */
  reason: string;
  /** The error that closed the connection; `undefined` for a graceful close by either side. */
  error: PubSubError | undefined;
}

/**
 * An event target over one iroh connection. Publishing delivers to local
 * listeners and sends to the peer; envelopes from the peer are delivered to
 * local listeners. Reserved event: `"close"` (detail: {@linkcode IrohCloseInfo}),
 * dispatched once, locally, when the connection ends.
 *
 * @example
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createSpokeIrohEventTarget, type IrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const target: IrohEventTarget = await createSpokeIrohEventTarget(conn);
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 * pubsub.publish("ping", "1", 1);
 * await target.close();
 * ```
 */
export interface IrohEventTarget extends TypedEventTarget<EnvelopeEvent> {
  /** The peer's verified EndpointId, as a string. */
  readonly remoteId: string;
  /** Which side opened the stream. */
  readonly role: "hub" | "spoke";
  /** `"open"` until a close starts, `"closing"` while it drains, then `"closed"`. */
  readonly state: "open" | "closing" | "closed";
  /** Bytes queued or being written, not yet handed to QUIC. */
  readonly bufferedBytes: number;
  /** Resolves (never rejects) once the connection has ended. */
  readonly closed: Promise<IrohCloseInfo>;
  /**
   * Resolves once every frame queued so far has been handed to QUIC; rejects
   * with the closing error if the connection ends first with frames unsent.
   */
  flush(): Promise<void>;
  /**
   * Graceful close: refuses new events, writes everything queued, finishes the
   * stream, waits (up to `closeTimeoutMs`) for the peer to finish its side,
   * then closes the connection with code 0. Never rejects; idempotent.
   */
  close(): Promise<void>;
  /** Counts local listeners, for one topic or all of them. */
  listenerCount(topic?: string): number;
}

type State = "opening" | "open" | "closing" | "closed";

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const CODE_NAMES: Record<number, string> = {
  0: "closed",
  1: "frame too large",
  2: "protocol error",
  3: "refused",
  4: "timeout",
  5: "error",
};

function reasonBytes(code: number): number[] {
  return Array.from(new TextEncoder().encode(CODE_NAMES[code] ?? "error"));
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n", 1)[0].trim();
  return line.length > 200 ? line.slice(0, 200) + "…" : line;
}

function toArray(bytes: Uint8Array): number[] {
  const n = bytes.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = bytes[i];
  return out;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

function defaultOnError(error: PubSubError): void {
  console.error("[@alkdev/pubsub/iroh]", error);
}

interface Mapped {
  error: PubSubError | undefined;
  code: number | undefined;
  /** The connection is already closed: closing it again would only replace the peer's reason with ours. */
  dead?: boolean;
}

/** Turns a binding failure into a typed error (`undefined` for a graceful close by the peer). */
function fromBinding(error: unknown, remoteId: string): Mapped {
  if (error instanceof PubSubError) {
    return { error, code: error instanceof IrohConnectionError ? error.closeCode : undefined };
  }
  const line = firstLine(error);
  const dead = /ConnectionLost|ApplicationClosed|ConnectionClosed|LocallyClosed|TimedOut/.test(line);
  const mapped = mapBinding(error, line, remoteId);
  mapped.dead = dead;
  return mapped;
}

function mapBinding(error: unknown, line: string, remoteId: string): Mapped {
  const match = /ApplicationClosed\(ApplicationClose \{ error_code: (\d+)/.exec(line);
  if (match !== null) {
    const code = Number(match[1]);
    if (code === IROH_CLOSE_CODES.normal) return { error: undefined, code };
    if (code === IROH_CLOSE_CODES.refused) {
      return {
        error: new IrohPeerRefusedError(
          remoteId,
          `Endpoint ${JSON.stringify(remoteId)} refused this connection (close code 3)`,
          { cause: error },
        ),
        code,
      };
    }
    const name = CODE_NAMES[code] ?? "unknown code";
    return {
      error: new IrohConnectionError(
        `Connection closed by ${JSON.stringify(remoteId)} with code ${code} (${name})`,
        code,
        { cause: error },
      ),
      code,
    };
  }
  return {
    error: new IrohConnectionError(`Connection to ${JSON.stringify(remoteId)} failed: ${line}`, undefined, {
      cause: error,
    }),
    code: undefined,
  };
}

class IrohStreamEventTarget extends TransportEventTarget implements IrohEventTarget {
  readonly remoteId: string;
  readonly role: "hub" | "spoke";
  #conn: IrohConnectionLike;
  #codec: Codec;
  #maxOutbox: number;
  #readChunk: number;
  #handshakeMs: number;
  #closeMs: number;
  #onError: (error: PubSubError) => void;
  #encoder: FrameEncoder;
  #decoder: FrameDecoder;
  #state: State = "opening";
  #send: IrohSendStreamLike | undefined;
  #writing = false;
  #inFlight = 0;
  #flushWaiters: Deferred<void>[] = [];
  /** Rejecters of every wait that must end when the target fails. */
  #waits = new Set<(error: unknown) => void>();
  #hello = deferred<void>();
  #helloSeen = false;
  #peerFinished = deferred<void>();
  #closing: Promise<void> | undefined;
  #closed = deferred<IrohCloseInfo>();
  #closeError: PubSubError | undefined;

  constructor(conn: IrohConnectionLike, role: "hub" | "spoke", options: IrohEventTargetOptions) {
    super(options);
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#encoder = new FrameEncoder({ maxFrameBytes });
    this.#decoder = new FrameDecoder({ maxFrameBytes });
    this.#maxOutbox = positiveInt("maxOutboxBytes", options.maxOutboxBytes, 8 * 1024 * 1024);
    this.#readChunk = positiveInt("readChunkBytes", options.readChunkBytes, 64 * 1024);
    this.#handshakeMs = positiveInt("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000);
    this.#closeMs = positiveInt("closeTimeoutMs", options.closeTimeoutMs, 5_000);
    this.#codec = options.codec ?? jsonCodec;
    this.#onError = options.onError ?? defaultOnError;
    this.#conn = conn;
    this.role = role;
    this.remoteId = String(conn.remoteId());
    this.#hello.promise.catch(() => {});
    this.#peerFinished.promise.catch(() => {});
  }

  get state(): "open" | "closing" | "closed" {
    return this.#state === "opening" ? "closing" : this.#state;
  }

  get bufferedBytes(): number {
    return this.#encoder.byteLength + this.#inFlight;
  }

  get closed(): Promise<IrohCloseInfo> {
    return this.#closed.promise;
  }

  // ---- opening ----

  async openAsSpoke(): Promise<void> {
    await this.#opening(async () => {
      const bi = await this.#wait(this.#conn.openBi(), this.#handshakeMs, "opening the stream");
      this.#start(bi);
      // The hub answers with its hello frame once it has accepted the stream.
      await this.#wait(this.#hello.promise, this.#handshakeMs, "waiting for the hub's hello");
    });
  }

  async openAsHub(allow: ((remoteId: string) => boolean | Promise<boolean>) | undefined): Promise<void> {
    await this.#opening(async () => {
      if (allow !== undefined) {
        let allowed = false;
        let cause: unknown;
        try {
          const verdict = Promise.resolve().then(() => allow(this.remoteId));
          allowed = (await this.#wait(verdict, this.#handshakeMs, "allow()")) === true;
        } catch (error) {
          if (this.#state === "closed") throw error;
          cause = error;
        }
        if (!allowed) {
          const why = cause === undefined ? "allow() returned false" : `allow() threw: ${firstLine(cause)}`;
          const error = new IrohPeerRefusedError(
            this.remoteId,
            `Refused endpoint ${JSON.stringify(this.remoteId)}: ${why}`,
            cause === undefined ? undefined : { cause },
          );
          this.#fail(error, IROH_CLOSE_CODES.refused);
          throw error;
        }
      }
      const bi = await this.#wait(this.#conn.acceptBi(), this.#handshakeMs, "accepting the stream");
      this.#start(bi);
    });
  }

  async #opening(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const mapped = fromBinding(error, this.remoteId);
      const typed = mapped.error ?? new IrohConnectionError(
        `Connection to ${JSON.stringify(this.remoteId)} closed during the handshake`,
        mapped.code,
      );
      this.#fail(typed, mapped.code, mapped.dead ? null : mapped.code ?? IROH_CLOSE_CODES.error);
      throw this.#closeError ?? typed;
    }
    // The reader may have failed (say, on a bad frame right after the hello) before this continuation ran.
    if (this.#state === "closed") {
      throw this.#closeError ?? new IrohConnectionError(`${JSON.stringify(this.remoteId)} closed during the handshake`);
    }
    this.#state = "open";
  }

  #start(bi: IrohBiStreamLike): void {
    this.#send = bi.send;
    this.#encoder.write(new Uint8Array(0)); // hello: lets the hub's acceptBi resolve, tells the spoke it was accepted
    this.#schedule();
    void this.#readLoop(bi.recv);
  }

  // ---- EventTarget ----

  dispatchEvent(event: EnvelopeEvent): boolean {
    if (this.#state !== "open") {
      throw new PubSubClosedError(
        `Cannot send ${JSON.stringify(event.type)}: the iroh connection to ${
          JSON.stringify(this.remoteId)
        } is ${this.state}`,
      );
    }
    const detail = outgoingEnvelope(event.detail, event.type);
    const buffered = this.bufferedBytes;
    if (buffered >= this.#maxOutbox) throw new IrohOutboxFullError(buffered, this.#maxOutbox);
    // Any extra keys on the detail travel too; the receiver's decodeEnvelope drops them.
    this.#encoder.write(this.#codec.encode(detail));
    this.#schedule();
    return this.dispatchLocal(event);
  }

  // ---- writing ----

  #schedule(): void {
    if (this.#writing) return; // the running pump picks the new frames up
    this.#writing = true;
    queueMicrotask(() => void this.#pump());
  }

  async #pump(): Promise<void> {
    const send = this.#send!;
    try {
      // Everything queued while a write is in flight goes out in the next single writeAll.
      while (this.#encoder.byteLength > 0 && this.#state !== "closed") {
        const bytes = toArray(this.#encoder.take());
        this.#inFlight = bytes.length;
        await send.writeAll(bytes);
        this.#inFlight = 0;
      }
    } catch (error) {
      this.#writing = false;
      this.#inFlight = 0;
      if (this.#state !== "closed") this.#failFromBinding(error);
      return;
    }
    this.#writing = false;
    if (this.#encoder.byteLength === 0) {
      const waiters = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  flush(): Promise<void> {
    if (!this.#writing && this.#encoder.byteLength === 0) return Promise.resolve();
    if (this.#state === "closed") {
      return Promise.reject(this.#closeError ?? new PubSubClosedError("The iroh connection closed with frames unsent"));
    }
    const d = deferred<void>();
    this.#flushWaiters.push(d);
    return d.promise;
  }

  // ---- reading ----

  #onFrame = (frame: Uint8Array): void => {
    if (!this.#helloSeen) {
      if (frame.length !== 0) {
        // Every peer of this protocol sends the empty hello first: anything else is not one.
        throw new IrohConnectionError(
          `${JSON.stringify(this.remoteId)} sent a ${frame.length}-byte frame before its hello (an empty frame)`,
          IROH_CLOSE_CODES.protocol,
        );
      }
      this.#helloSeen = true;
      this.#hello.resolve();
    }
    if (frame.length === 0) return; // hello / keep-alive
    let envelope: EventEnvelope;
    try {
      // The frame may be a view of the reused read buffer: a custom codec gets its own copy, in case
      // it keeps the bytes (jsonCodec turns them into a string at once).
      envelope = decodeEnvelope(this.#codec === jsonCodec ? frame : frame.slice(), this.#codec);
    } catch (error) {
      this.#report(
        error instanceof PubSubError
          ? error
          : new EnvelopeError(`Cannot decode a frame from ${JSON.stringify(this.remoteId)}`, { cause: error }),
      );
      return;
    }
    this.deliverRemote(new CustomEvent(topicFor(envelope.type, envelope.id), { detail: envelope }) as EnvelopeEvent);
  };

  async #readLoop(recv: IrohRecvStreamLike): Promise<void> {
    // One scratch buffer for every chunk: frames are decoded synchronously, and the decoder copies
    // any unfinished frame into its own buffer. (An indexed copy is several times faster than
    // `new Uint8Array(array)` on the arrays the binding returns.)
    let scratch = new Uint8Array(this.#readChunk);
    try {
      for (;;) {
        const chunk = await recv.read(this.#readChunk);
        if (this.#state === "closed") return;
        const n = chunk.length;
        if (n === 0) break;
        if (n > scratch.length) scratch = new Uint8Array(n);
        for (let i = 0; i < n; i++) scratch[i] = chunk[i];
        this.#decoder.push(scratch.subarray(0, n), this.#onFrame);
        // A chunk may hold thousands of frames: what was not delivered in this turn is delivered over the
        // next ones. Reading on only after that pushes back on the peer (QUIC flow control) instead.
        const drained = this.remoteBacklog();
        if (drained !== undefined) await drained;
      }
      this.#decoder.end();
    } catch (error) {
      if (this.#state === "closed") return;
      if (error instanceof FrameTooLargeError) this.#fail(error, IROH_CLOSE_CODES.frameTooLarge);
      else if (error instanceof TruncatedFrameError) this.#fail(error, IROH_CLOSE_CODES.protocol);
      else this.#failFromBinding(error);
      return;
    }
    // The peer finished its stream cleanly.
    this.#peerFinished.resolve();
    if (this.#state === "open") this.#closing = this.#shutdown(false);
    else if (this.#state === "opening") {
      this.#fail(
        new IrohConnectionError(`${JSON.stringify(this.remoteId)} finished its stream during the handshake`),
        IROH_CLOSE_CODES.protocol,
      );
    }
  }

  // ---- closing ----

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#state === "closed") return this.#closed.promise.then(() => {});
    this.#closing = this.#shutdown(true);
    return this.#closing;
  }

  async #shutdown(initiator: boolean): Promise<void> {
    this.#state = "closing";
    try {
      await this.#wait(this.flush(), this.#closeMs, "writing queued frames");
      await this.#wait(this.#send!.finish(), this.#closeMs, "finishing the stream");
      if (initiator) {
        await this.#wait(this.#peerFinished.promise, this.#closeMs, "waiting for the peer to finish its stream");
      } else {
        // The initiator closes the connection once it has read our end-of-stream.
        await this.#wait(this.#conn.closed(), this.#closeMs, "waiting for the peer to close the connection");
      }
    } catch (error) {
      if ((this.#state as State) !== "closed") this.#failFromBinding(error);
      return;
    }
    this.#finish({
      code: IROH_CLOSE_CODES.normal,
      reason: initiator ? "closed" : "closed by the peer",
      error: undefined,
    }, IROH_CLOSE_CODES.normal);
  }

  #failFromBinding(error: unknown): void {
    const mapped = fromBinding(error, this.remoteId);
    const closeWith = mapped.dead ? null : mapped.code ?? IROH_CLOSE_CODES.error;
    if (mapped.error === undefined) {
      // The peer closed the connection with code 0 without finishing the stream first.
      this.#finish({ code: mapped.code, reason: "closed by the peer", error: undefined }, closeWith);
    } else {
      this.#fail(mapped.error, mapped.code ?? IROH_CLOSE_CODES.error, closeWith);
    }
  }

  /** Ends the target with `error`; `closeWith` is the code to close the connection with (`null`: it is already closed). */
  #fail(error: PubSubError, code: number | undefined, closeWith: number | null = code ?? IROH_CLOSE_CODES.error): void {
    if (this.#state === "closed") return;
    const reported = this.#state !== "opening";
    this.#finish({ code, reason: firstLine(error), error }, closeWith);
    if (reported) this.#report(error);
  }

  #finish(info: IrohCloseInfo, closeWith: number | null): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeError = info.error;
    if (closeWith !== null) {
      try {
        this.#conn.close(BigInt(closeWith), reasonBytes(closeWith));
      } catch {
        // Already closed.
      }
    }
    const pending = info.error ?? new PubSubClosedError("The iroh connection closed with frames unsent");
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    if (this.#encoder.byteLength > 0 || this.#inFlight > 0) {
      for (const w of waiters) w.reject(pending);
    } else {
      for (const w of waiters) w.resolve();
    }
    for (const reject of [...this.#waits]) reject(pending);
    this.#hello.reject(pending);
    this.#peerFinished.reject(pending);
    this.#encoder.take();
    this.#closed.resolve(info);
    this.emitClose(info);
  }

  #report(error: PubSubError): void {
    try {
      this.#onError(error);
    } catch (thrown) {
      console.error("[@alkdev/pubsub/iroh] onError threw:", thrown);
    }
  }

  /** Waits for `promise`, but no longer than `ms` and no longer than the target lives. */
  #wait<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const stop = (error: unknown): void => {
        clearTimeout(timer);
        this.#waits.delete(stop);
        reject(error);
      };
      const timer = setTimeout(() => {
        stop(
          new IrohConnectionError(
            `Timed out after ${ms} ms ${what} (connection to ${JSON.stringify(this.remoteId)})`,
            IROH_CLOSE_CODES.timeout,
          ),
        );
      }, ms);
      this.#waits.add(stop);
      promise.then((value) => {
        if (!this.#waits.has(stop)) return;
        clearTimeout(timer);
        this.#waits.delete(stop);
        resolve(value);
      }, (error) => {
        if (this.#waits.has(stop)) stop(error);
      });
    });
  }
}

/**
 * Creates the spoke side: opens the bidirectional stream on `conn`, sends the
 * hello frame and resolves once the hub has answered with its own, so events
 * published afterwards reach a hub that is listening. The target owns `conn`
 * from now on and closes it when it closes.
 *
 * @param conn An established connection, for example from `@number0/iroh`'s
 * `endpoint.connect(addr, alpn)`.
 * @param options Codec, limits, timeouts and the error channel.
 * @returns The open target.
 * @throws {IrohPeerRefusedError} (rejects) If the hub refused this endpoint.
 * @throws {IrohConnectionError} (rejects) If the connection failed or timed out during the handshake.
 * @throws {RangeError} (rejects) If an option is invalid.
 *
 * @example A spoke publishing to a hub
 * ```ts ignore
 * import { createRequire } from "node:module";
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createSpokeIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const { Endpoint, EndpointAddr, EndpointId, presetMinimal } = createRequire(import.meta.url)("@number0/iroh");
 * const alpn = Array.from(new TextEncoder().encode("my-app/pubsub/1"));
 * const builder = Endpoint.builder();
 * presetMinimal(builder);
 * const endpoint = await builder.bind();
 * const conn = await endpoint.connect(new EndpointAddr(EndpointId.fromString(hubId), null, hubAddrs), alpn);
 * const target = await createSpokeIrohEventTarget(conn);
 * const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 * pubsub.publish("ping", "1", 1);
 * await target.close(); // delivers everything published before close()
 * await endpoint.close();
 * ```
 */
export async function createSpokeIrohEventTarget(
  conn: IrohConnectionLike,
  options: IrohEventTargetOptions = {},
): Promise<IrohEventTarget> {
  const target = new IrohStreamEventTarget(conn, "spoke", options);
  await target.openAsSpoke();
  return target;
}

/**
 * Creates the hub side for one accepted connection: checks `allow(remoteId)`,
 * accepts the spoke's bidirectional stream and answers with a hello frame. Call
 * it once per connection. The target owns `conn` from now on and closes it
 * when it closes.
 *
 * @param conn An accepted connection, for example from
 * `await (await (await endpoint.acceptNext()).accept()).connect()`.
 * @param options `allow`, codec, limits, timeouts and the error channel.
 * @returns The open target.
 * @throws {IrohPeerRefusedError} (rejects) If `allow` refused the spoke; the connection is closed with code 3.
 * @throws {IrohConnectionError} (rejects) If the connection failed or timed out before the stream arrived.
 * @throws {RangeError} (rejects) If an option is invalid.
 *
 * @example A hub that accepts known spokes
 * ```ts ignore
 * import { createPubSub } from "@alkdev/pubsub";
 * import { createHubIrohEventTarget } from "@alkdev/pubsub/iroh";
 *
 * const allowed = new Set([spokeId]);
 * for (let incoming = await endpoint.acceptNext(); incoming; incoming = await endpoint.acceptNext()) {
 *   const conn = await (await incoming.accept()).connect();
 *   const target = await createHubIrohEventTarget(conn, { allow: (id) => allowed.has(id) });
 *   const pubsub = createPubSub<{ ping: number }>({ eventTarget: target });
 *   pubsub.subscribe("ping", "1");
 * }
 * ```
 */
export async function createHubIrohEventTarget(
  conn: IrohConnectionLike,
  options: HubIrohEventTargetOptions = {},
): Promise<IrohEventTarget> {
  const target = new IrohStreamEventTarget(conn, "hub", options);
  await target.openAsHub(options.allow);
  return target;
}
