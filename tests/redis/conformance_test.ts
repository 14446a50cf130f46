import { conformance } from "../../testing/mod.ts";
import { redisPair, uniquePrefix } from "./_helpers.ts";

conformance("redis", () => redisPair(uniquePrefix("conformance")));
conformance("redis (sharded, standalone Redis 7)", () => redisPair(uniquePrefix("conformance-sharded"), true));
