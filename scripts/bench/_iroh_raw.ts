/**
 * Raw `@number0/iroh` streams for the iroh benchmarks (iroh.ts,
 * iroh_inbound.ts): 4-byte length-prefixed JSON frames, the baseline every
 * iroh figure is a ratio to. Not part of the package.
 */

import { type ConnectedPair, connectPair } from "../../tests/iroh/load_iroh.ts";

/** The raw receiver: chunked reads, inline length-prefix parsing, JSON.parse per frame. */
export function rawReader(
  recv: { read(n: number): Promise<number[]> },
  onMessage: (value: unknown) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = new Uint8Array(0);
  return (async () => {
    for (;;) {
      const chunk = await recv.read(65536);
      if (chunk.length === 0) return;
      const data = new Uint8Array(pending.length + chunk.length);
      data.set(pending);
      // An indexed copy: several times faster than set()/new Uint8Array() on the binding's arrays.
      for (let i = 0; i < chunk.length; i++) data[pending.length + i] = chunk[i];
      let at = 0;
      while (data.length - at >= 4) {
        const len = ((data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]) >>> 0;
        if (data.length - at - 4 < len) break;
        onMessage(JSON.parse(decoder.decode(data.subarray(at + 4, at + 4 + len))));
        at += 4 + len;
      }
      pending = data.slice(at);
    }
  })();
}

const utf8 = new TextEncoder();

export function frameBytes(value: unknown): Uint8Array {
  const body = utf8.encode(JSON.stringify(value));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

export function toArray(bytes: Uint8Array): number[] {
  const out = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i];
  return out;
}

export function frameOf(value: unknown): number[] {
  return toArray(frameBytes(value));
}

export interface RawStreams {
  pair: ConnectedPair;
  send: { writeAll(b: number[]): Promise<void>; finish(): Promise<void> };
  recv: { read(n: number): Promise<number[]> };
  backSend: { writeAll(b: number[]): Promise<void>; finish(): Promise<void> };
  backRecv: { read(n: number): Promise<number[]> };
}

export async function rawStreams(): Promise<RawStreams> {
  const pair = await connectPair();
  const bi = await pair.clientConn.openBi();
  await bi.send.writeAll([0, 0, 0, 0]);
  const back = await pair.serverConn.acceptBi();
  const first = await back.recv.readExact(4); // the hello above
  if (first.length !== 4) throw new Error("raw stream setup failed");
  return { pair, send: bi.send, recv: back.recv, backSend: back.send, backRecv: bi.recv };
}

/** Frames joined into one buffer, as the binding takes it: what a batching writer hands to one `writeAll`. */
export function concatFrames(frames: Uint8Array[]): number[] {
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    all.set(f, at);
    at += f.length;
  }
  return toArray(all);
}

/**
 * A batching raw writer: frames written within one turn go out in one `writeAll`, and frames written while a
 * `writeAll` is under way go in the next one.
 */
export function batchedWriter(send: { writeAll(b: number[]): Promise<void> }): {
  write(value: unknown): void;
  flushed(): Promise<void>;
} {
  let queue: Uint8Array[] = [];
  let writing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const frames = queue;
      queue = [];
      await send.writeAll(concatFrames(frames));
    }
    writing = undefined;
  };
  return {
    write(value) {
      queue.push(frameBytes(value));
      writing ??= Promise.resolve().then(flush);
    },
    flushed: () => writing ?? Promise.resolve(),
  };
}
