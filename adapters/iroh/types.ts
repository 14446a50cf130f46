/**
 * The minimal structural interface the adapter needs from an iroh binding.
 * `@number0/iroh` (1.x) satisfies it as is; the adapter never imports a
 * binding itself.
 *
 * @module
 */

import type { PubSubError } from "../../core/errors.ts";

/**
 * An endpoint's identity, as the binding returns it. Only its string form
 * (base32/hex, whatever the binding prints) is used.
 *
 * @example
 * ```ts
 * import type { IrohEndpointIdLike } from "@alkdev/pubsub/iroh";
 *
 * const id: IrohEndpointIdLike = { toString: () => "b48dda4b..." };
 * ```
 */
export interface IrohEndpointIdLike {
  /** The endpoint id as a string. */
  toString(): string;
}

/**
 * The sending half of a QUIC stream. Buffers are arrays of byte values, as
 * `@number0/iroh` takes them.
 *
 * @example
 * ```ts
 * import type { IrohSendStreamLike } from "@alkdev/pubsub/iroh";
 *
 * async function send(stream: IrohSendStreamLike): Promise<void> {
 *   await stream.writeAll([0, 0, 0, 0]);
 *   await stream.finish();
 * }
 * ```
 */
export interface IrohSendStreamLike {
  /** Writes every byte of `buf`; rejects if the stream or connection fails. */
  writeAll(buf: number[]): Promise<void>;
  /** Finishes the stream: the peer reads to the end, then sees end-of-stream. */
  finish(): Promise<void>;
}

/**
 * The receiving half of a QUIC stream.
 *
 * @example
 * ```ts
 * import type { IrohRecvStreamLike } from "@alkdev/pubsub/iroh";
 *
 * async function drain(stream: IrohRecvStreamLike): Promise<number> {
 *   let total = 0;
 *   for (let chunk = await stream.read(65536); chunk.length > 0; chunk = await stream.read(65536)) {
 *     total += chunk.length;
 *   }
 *   return total;
 * }
 * ```
 */
export interface IrohRecvStreamLike {
  /**
   * Reads up to `sizeLimit` bytes as soon as any are available; resolves with
   * an empty array at end-of-stream and rejects if the stream or connection
   * fails. (`@number0/iroh`'s `readExact` is deliberately not used: it
   * allocates its whole size before reading anything.)
   */
  read(sizeLimit: number): Promise<number[]>;
}

/**
 * A bidirectional stream: a send half and a receive half.
 *
 * @example
 * ```ts
 * import type { IrohBiStreamLike } from "@alkdev/pubsub/iroh";
 *
 * function halves(bi: IrohBiStreamLike): void {
 *   console.log(typeof bi.send.writeAll, typeof bi.recv.read); // "function" "function"
 * }
 * ```
 */
export interface IrohBiStreamLike {
  /** The send half. */
  readonly send: IrohSendStreamLike;
  /** The receive half. */
  readonly recv: IrohRecvStreamLike;
}

/**
 * An established iroh (QUIC) connection, as `@number0/iroh`'s `Connection`
 * provides it.
 *
 * @example Passing a real connection
 * ```ts ignore
 * import { Endpoint, EndpointAddr, presetMinimal } from "@number0/iroh";
 * import { createSpokeIrohEventTarget, type IrohConnectionLike } from "@alkdev/pubsub/iroh";
 *
 * const conn: IrohConnectionLike = await client.connect(new EndpointAddr(hubId, null, addrs), alpn);
 * const target = await createSpokeIrohEventTarget(conn);
 * ```
 */
export interface IrohConnectionLike {
  /** Opens a bidirectional stream (the spoke does this). */
  openBi(): Promise<IrohBiStreamLike>;
  /** Accepts the peer's bidirectional stream (the hub does this). */
  acceptBi(): Promise<IrohBiStreamLike>;
  /** The peer's cryptographically verified EndpointId. */
  remoteId(): IrohEndpointIdLike;
  /** Closes the connection at once with an application error code and a reason. */
  close(errorCode: bigint, reason: number[]): void;
  /** Resolves with a description once the connection is closed, for any reason. */
  closed(): Promise<string>;
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
