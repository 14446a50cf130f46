/** zod and valibot schemas over NATS: events from another connection's target are validated before subscribers. */
import { schemaRoundTrip } from "../_schemas.ts";
import { targetWithConnection, uniquePrefix } from "./_helpers.ts";

Deno.test("nats schemas: zod and valibot validate what arrives, subscribers get the output", async () => {
  const prefix = uniquePrefix("schemas");
  const [a, b] = await Promise.all([targetWithConnection({ prefix }), targetWithConnection({ prefix })]);
  try {
    await schemaRoundTrip(a.target, b.target);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
