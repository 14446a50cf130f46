/**
 * Type tests: the event map inferred from zod and valibot schemas. `deno check` (and `deno test`, which checks
 * first) fails if any `@ts-expect-error` line below stops being an error, or any other line becomes one.
 */
import * as v from "valibot";
import { z } from "zod";
import { createPubSub, type PubSub, type StandardSchemaV1 } from "../../mod.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(_: T): void {}

Deno.test("zod schemas infer the event map from their output types", () => {
  const pubsub = createPubSub({
    schemas: {
      "job.progress": z.object({ percent: z.number() }),
      "job.done": z.object({ at: z.string().transform((s) => new Date(s)) }),
    },
  });
  const progress = pubsub.subscribe("job.progress", "1");
  const done = pubsub.subscribe("job.done", "1");
  assertType<Equal<Awaited<ReturnType<typeof progress.next>>["value"], { percent: number } | undefined>>(true);
  assertType<Equal<Awaited<ReturnType<typeof done.next>>["value"], { at: Date } | undefined>>(true);
  pubsub.publish("job.progress", "1", { percent: 1 });
  // @ts-expect-error: percent must be a number
  pubsub.publish("job.progress", "1", { percent: "lol" });
  // @ts-expect-error: no schema, no such event type
  pubsub.publish("job.unknown", "1", 1);
  // @ts-expect-error: no such event type
  pubsub.subscribe("job.unknown", "1");
  pubsub.close();
});

Deno.test("valibot schemas infer the event map from their output types", () => {
  const pubsub = createPubSub({
    schemas: {
      "chat.message": v.object({ text: v.string(), votes: v.optional(v.number(), 0) }),
      tick: v.pipe(v.string(), v.transform((s) => s.length)),
    },
  });
  const chat = pubsub.subscribe("chat.message", "room");
  assertType<Equal<Awaited<ReturnType<typeof chat.next>>["value"], { text: string; votes: number } | undefined>>(true);
  const tick = pubsub.subscribe("tick", "1");
  assertType<Equal<Awaited<ReturnType<typeof tick.next>>["value"], number | undefined>>(true);
  pubsub.publish("chat.message", "room", { text: "hi", votes: 1 });
  // @ts-expect-error: text is required
  pubsub.publish("chat.message", "room", { votes: 1 });
  pubsub.close();
});

Deno.test("an explicit event map still works, with or without schemas that output it", () => {
  type Events = { ping: number; pong: { ok: boolean } };
  const plain: PubSub<Events> = createPubSub<Events>();
  plain.publish("ping", "1", 1);
  // @ts-expect-error: ping carries a number
  plain.publish("ping", "1", "1");
  plain.close();
  const checked = createPubSub<Events>({ schemas: { ping: z.number() } });
  checked.close();
  // @ts-expect-error: the schema for ping must output a number
  createPubSub<Events>({ schemas: { ping: z.string() } }).close();
  const hand: StandardSchemaV1<number> = {
    "~standard": { version: 1, vendor: "t", validate: () => ({ value: 1 }) },
  };
  createPubSub({ schemas: { n: hand } }).close();
});
