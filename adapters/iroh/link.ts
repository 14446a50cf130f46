/**
 * `IrohLink`: one iroh connection's stream machinery, shared by the
 * per-connection targets, the hub's connections and the spoke. It opens (or
 * accepts) the bidirectional stream, writes length-prefixed frames in batches,
 * reads and splits frames, closes gracefully, and maps binding failures to
 * typed errors and close codes. What the frames mean is up to its owner. Not
 * exported from the package.
 *
 * @module
 */

import { FrameTooLargeError, PubSubClosedError, PubSubError } from "../../core/errors.ts";
import { FrameDecoder, FrameEncoder, TruncatedFrameError } from "../../core/framing.ts";
import { IROH_CLOSE_CODES, IrohConnectionError, IrohPeerRefusedError } from "./errors.ts";
import type {
  IrohBiStreamLike,
  IrohCloseInfo,
  IrohConnectionLike,
  IrohRecvStreamLike,
  IrohSendStreamLike,
} from "./types.ts";

/** A link's state: `"opening"` until its owner's handshake is done. */
export type IrohLinkState = "opening" | "open" | "closing" | "closed";

/** The resolved limits and timeouts a link needs. */
export interface IrohLinkConfig {
  maxFrameBytes: number;
  readChunkBytes: number;
  handshakeTimeoutMs: number;
  closeTimeoutMs: number;
  /** Reports a failure that closed an open link (not one during opening: `open` rejects with it). */
  report(error: PubSubError): void;
}

/** What a link tells its owner. */
export interface IrohLinkHandlers {
  /** Each frame body, zero-length ones included; a view of a reused buffer, valid during the call only. */
  onFrame(frame: Uint8Array): void;
  /**
   * Called after each read chunk's frames; a promise returned here holds the
   * read after the next one until it settles (the owner's remote backlog,
   * `TransportEventTarget.remoteBacklog`), so QUIC flow control holds a
   * faster peer back instead of a queue growing.
   */
  afterChunk?(): Promise<void> | undefined;
  /** The link ended; called once. */
  onClose(info: IrohCloseInfo): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A promise with its settle functions. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The reason text sent with each close code. */
export const CODE_NAMES: Record<number, string> = {
  0: "closed",
  1: "frame too large",
  2: "protocol error",
  3: "refused",
  4: "timeout",
  5: "error",
  6: "unsupported protocol version",
  7: "slow consumer",
  8: "rate limited",
};

function reasonBytes(code: number, reason?: string): number[] {
  return Array.from(new TextEncoder().encode(reason ?? CODE_NAMES[code] ?? "error"));
}

/** Closes a connection no link owns (a dial that came too late) with code 0, ignoring one that is closed already. */
export function closeQuietly(conn: IrohConnectionLike): void {
  try {
    conn.close(BigInt(IROH_CLOSE_CODES.normal), reasonBytes(IROH_CLOSE_CODES.normal, "closed"));
  } catch {
    // Already closed.
  }
}

/** The first line of an error's message, at most 200 characters. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n", 1)[0].trim();
  return line.length > 200 ? line.slice(0, 200) + "…" : line;
}

/** The most bytes handed to the binding in one `writeAll`. */
const WRITE_SLICE_BYTES = 64 * 1024;

function toArray(bytes: Uint8Array): number[] {
  const n = bytes.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = bytes[i];
  return out;
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

/**
 * One scratch buffer for every link's chunks (not one per connection: an idle
 * one would hold 64 KiB): a chunk's frames are handed on synchronously before
 * any other read continues, and the decoder copies an unfinished frame into its
 * own buffer. (An indexed copy is several times faster than
 * `new Uint8Array(array)` on the arrays the binding returns.)
 */
let scratch = new Uint8Array(0);

/** Drives one connection's bidirectional stream. */
export class IrohLink {
  readonly remoteId: string;
  readonly conn: IrohConnectionLike;
  #config: IrohLinkConfig;
  #handlers: IrohLinkHandlers;
  #encoder: FrameEncoder;
  #decoder: FrameDecoder;
  #state: IrohLinkState = "opening";
  #send: IrohSendStreamLike | undefined;
  #writing = false;
  #inFlight = 0;
  #written = 0;
  #flushWaiters: Deferred<void>[] = [];
  /** Rejecters of every wait that must end when the link fails. */
  #waits = new Set<(error: unknown) => void>();
  #peerFinished = deferred<void>();
  #closing: Promise<void> | undefined;
  #closed = deferred<IrohCloseInfo>();
  #closeError: PubSubError | undefined;

  constructor(conn: IrohConnectionLike, config: IrohLinkConfig, handlers: IrohLinkHandlers) {
    this.#encoder = new FrameEncoder({ maxFrameBytes: config.maxFrameBytes });
    this.#decoder = new FrameDecoder({ maxFrameBytes: config.maxFrameBytes });
    this.#config = config;
    this.#handlers = handlers;
    this.conn = conn;
    this.remoteId = String(conn.remoteId());
    this.#peerFinished.promise.catch(() => {});
  }

  get state(): IrohLinkState {
    return this.#state;
  }

  /** Bytes queued or being written, not yet handed to QUIC. */
  /** Bytes handed to QUIC so far: it grows while the peer reads. */
  get writtenBytes(): number {
    return this.#written;
  }

  get bufferedBytes(): number {
    return this.#encoder.byteLength + this.#inFlight;
  }

  /** Resolves (never rejects) once the link has ended. */
  get closed(): Promise<IrohCloseInfo> {
    return this.#closed.promise;
  }

  /**
   * Runs the owner's handshake (`work`): a failure in it closes the
   * connection (with the mapped code) and rejects with the typed error; on
   * success the link is open.
   */
  async open(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const mapped = fromBinding(error, this.remoteId);
      const typed = mapped.error ?? new IrohConnectionError(
        `Connection to ${JSON.stringify(this.remoteId)} closed during the handshake`,
        mapped.code,
      );
      this.fail(typed, mapped.code, mapped.dead ? null : mapped.code ?? IROH_CLOSE_CODES.error);
      throw this.#closeError ?? typed;
    }
    // The reader may have failed (say, on a bad frame right after the hello) before this continuation ran.
    if (this.#state === "closed") {
      throw this.#closeError ?? new IrohConnectionError(`${JSON.stringify(this.remoteId)} closed during the handshake`);
    }
    this.#state = "open";
  }

  /** Opens the stream (the dialing side) and starts reading it. */
  async openStream(): Promise<void> {
    this.#start(await this.wait(this.conn.openBi(), this.#config.handshakeTimeoutMs, "opening the stream"));
  }

  /** Accepts the peer's stream (the accepting side) and starts reading it. */
  async acceptStream(): Promise<void> {
    this.#start(await this.wait(this.conn.acceptBi(), this.#config.handshakeTimeoutMs, "accepting the stream"));
  }

  #start(bi: IrohBiStreamLike): void {
    this.#send = bi.send;
    this.#schedule();
    void this.#readLoop(bi.recv);
  }

  /**
   * Queues one frame; every frame queued in the same tick goes out in one
   * `writeAll`. Frames queued before the stream exists wait for it.
   *
   * @throws {FrameTooLargeError} If the body is over `maxFrameBytes`; nothing is queued.
   */
  write(body: string | Uint8Array): void {
    this.#encoder.write(body);
    if (this.#send !== undefined) this.#schedule();
  }

  #schedule(): void {
    if (this.#writing || this.#encoder.byteLength === 0) return; // the running pump picks the new frames up
    this.#writing = true;
    queueMicrotask(() => void this.#pump());
  }

  async #pump(): Promise<void> {
    const send = this.#send!;
    try {
      // Everything queued while a write is in flight goes out in the next single writeAll.
      while (this.#encoder.byteLength > 0 && this.#state !== "closed") {
        const batch = this.#encoder.take();
        // The binding takes a number array (8 bytes a byte), so a large batch goes in slices; its buffer is handed
        // over to this loop, and frames queued meanwhile go to a fresh encoder.
        if (batch.byteLength > WRITE_SLICE_BYTES) {
          this.#encoder = new FrameEncoder({ maxFrameBytes: this.#config.maxFrameBytes });
        }
        this.#inFlight = batch.byteLength;
        for (
          let at = 0;
          at < batch.byteLength && (this.#state as IrohLinkState) !== "closed";
          at += WRITE_SLICE_BYTES
        ) {
          const bytes = toArray(batch.subarray(at, at + WRITE_SLICE_BYTES));
          await send.writeAll(bytes);
          this.#inFlight -= bytes.length;
          this.#written += bytes.length;
        }
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

  /**
   * Resolves once every frame queued so far has been handed to QUIC; rejects
   * with the closing error if the link ends first with frames unsent.
   */
  flush(): Promise<void> {
    if (!this.#writing && this.#encoder.byteLength === 0) return Promise.resolve();
    if (this.#state === "closed") {
      return Promise.reject(this.#closeError ?? new PubSubClosedError("The iroh connection closed with frames unsent"));
    }
    const d = deferred<void>();
    this.#flushWaiters.push(d);
    return d.promise;
  }

  async #readLoop(recv: IrohRecvStreamLike): Promise<void> {
    const onFrame = this.#handlers.onFrame;
    const afterChunk = this.#handlers.afterChunk;
    const size = this.#config.readChunkBytes;
    try {
      let next = recv.read(size);
      for (;;) {
        const chunk = await next;
        if (this.#state === "closed") return;
        const n = chunk.length;
        if (n === 0) break;
        if (n > scratch.length) scratch = new Uint8Array(Math.max(n, 64 * 1024));
        const buffer = scratch;
        for (let i = 0; i < n; i++) buffer[i] = chunk[i];
        // One read ahead while this chunk's events are delivered: the binding keeps reading, and at most one more
        // chunk waits.
        next = recv.read(size);
        next.catch(() => {}); // its failure is handled when it is awaited
        this.#decoder.push(buffer.subarray(0, n), onFrame);
        // A chunk may hold thousands of frames; the owner delivers them paced (256 per turn). Reading on only once
        // they are delivered pushes back on the peer.
        const held = afterChunk?.();
        if (held !== undefined) await held;
        if ((this.#state as IrohLinkState) === "closed") return;
      }
      this.#decoder.end();
    } catch (error) {
      if (this.#state === "closed") return;
      if (error instanceof FrameTooLargeError) this.fail(error, IROH_CLOSE_CODES.frameTooLarge);
      else if (error instanceof TruncatedFrameError) this.fail(error, IROH_CLOSE_CODES.protocol);
      else this.#failFromBinding(error);
      return;
    }
    // The peer finished its stream cleanly.
    this.#peerFinished.resolve();
    if (this.#state === "open") this.#closing = this.#shutdown(false);
    else if (this.#state === "opening") {
      this.fail(
        new IrohConnectionError(`${JSON.stringify(this.remoteId)} finished its stream during the handshake`),
        IROH_CLOSE_CODES.protocol,
      );
    }
  }

  /**
   * Graceful close: writes everything queued, finishes the stream, waits (up
   * to `closeTimeoutMs`) for the peer to finish its side, then closes the
   * connection with code 0. Never rejects; idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#state === "closed") return this.#closed.promise.then(() => {});
    if (this.#state === "opening" || this.#send === undefined) {
      this.#finish({ code: IROH_CLOSE_CODES.normal, reason: "closed", error: undefined }, IROH_CLOSE_CODES.normal);
      return this.#closed.promise.then(() => {});
    }
    this.#closing = this.#shutdown(true);
    return this.#closing;
  }

  async #shutdown(initiator: boolean): Promise<void> {
    this.#state = "closing";
    const ms = this.#config.closeTimeoutMs;
    try {
      await this.wait(this.flush(), ms, "writing queued frames");
      await this.wait(this.#send!.finish(), ms, "finishing the stream");
      if (initiator) {
        await this.wait(this.#peerFinished.promise, ms, "waiting for the peer to finish its stream");
      } else {
        // The initiator closes the connection once it has read our end-of-stream.
        await this.wait(this.conn.closed(), ms, "waiting for the peer to close the connection");
      }
    } catch (error) {
      if ((this.#state as IrohLinkState) !== "closed") this.#failFromBinding(error);
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
      this.fail(mapped.error, mapped.code ?? IROH_CLOSE_CODES.error, closeWith);
    }
  }

  /**
   * Ends the link with `error`: closes the connection with `closeWith`
   * (`null`: it is already closed), reports `error` unless still opening.
   */
  fail(error: PubSubError, code: number | undefined, closeWith: number | null = code ?? IROH_CLOSE_CODES.error): void {
    if (this.#state === "closed") return;
    const reported = this.#state !== "opening";
    this.#finish({ code, reason: firstLine(error), error }, closeWith);
    if (reported) this.#config.report(error);
  }

  /** Ends the link at once, closing the connection with `code` and `reason` (no error is reported). */
  abort(code: number, reason: string, error?: PubSubError): void {
    if (this.#state === "closed") return;
    this.#finish({ code, reason, error }, code, reason);
  }

  #finish(info: IrohCloseInfo, closeWith: number | null, reason?: string): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeError = info.error;
    if (closeWith !== null) {
      try {
        this.conn.close(BigInt(closeWith), reasonBytes(closeWith, reason));
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
    this.#peerFinished.reject(pending);
    this.#encoder.take();
    this.#closed.resolve(info);
    this.#handlers.onClose(info);
  }

  /** Waits for `promise`, but no longer than `ms` and no longer than the link lives. */
  wait<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
      if (this.#state === "closed") {
        promise.catch(() => {});
        stop(this.#closeError ?? new PubSubClosedError("The iroh connection is closed"));
        return;
      }
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
 * Runs one of the hub's admission checks (`allow`, `authenticate`) within
 * the handshake timeout. `true` or an object admits (the object is returned);
 * anything else, a throw or a rejection closes the connection with code 3
 * and throws {@linkcode IrohPeerRefusedError}.
 *
 * @param link The connection being admitted.
 * @param name The check's name, for the message (`"allow()"`).
 * @param check Calls the user's function.
 * @param refusal What a `false` answer did, for the message.
 * @param ms The handshake timeout.
 */
export async function admit<T>(
  link: IrohLink,
  name: string,
  check: () => T | Promise<T>,
  refusal: string,
  ms: number,
): Promise<T> {
  let verdict: T | undefined;
  let cause: unknown;
  try {
    verdict = await link.wait(Promise.resolve().then(check), ms, name);
  } catch (error) {
    if (link.state === "closed") throw error;
    cause = error;
  }
  if (cause === undefined && (verdict === true || (verdict !== null && typeof verdict === "object"))) return verdict!;
  const why = cause === undefined ? refusal : `${name} threw: ${firstLine(cause)}`;
  const error = new IrohPeerRefusedError(
    link.remoteId,
    `Refused endpoint ${JSON.stringify(link.remoteId)}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
  link.fail(error, IROH_CLOSE_CODES.refused);
  throw error;
}

/** Runs the hub's `allow(remoteId)`: see {@linkcode admit}. */
export function checkAllow<T>(
  link: IrohLink,
  allow: (remoteId: string) => T | Promise<T>,
  ms: number,
): Promise<T> {
  return admit(link, "allow()", () => allow(link.remoteId), "allow() returned false", ms);
}
