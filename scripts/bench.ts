/**
 * `deno task bench [name ...]`: runs each benchmark in scripts/bench/ in its
 * own process with its own permissions. Every benchmark prints its figures as
 * ratios to a raw baseline measured in the same run.
 */

const root = new URL("..", import.meta.url);

interface Bench {
  name: string;
  file: string;
  permissions: string[];
  needsTools?: boolean;
}

const benches: Bench[] = [
  {
    name: "core",
    file: "scripts/bench/core.ts",
    permissions: ["--allow-read", "--allow-env", "--allow-run", "--v8-flags=--expose-gc"],
  },
  { name: "decode", file: "scripts/bench/decode.ts", permissions: [] },
  {
    name: "operators",
    file: "scripts/bench/operators.ts",
    permissions: ["--allow-read", "--allow-env", "--allow-run", "--v8-flags=--expose-gc"],
  },
  {
    name: "redis",
    file: "scripts/bench/redis.ts",
    permissions: ["--allow-net=127.0.0.1", "--allow-env", "--allow-read", "--allow-run=redis-server,redis-cli"],
  },
  {
    name: "nats",
    file: "scripts/bench/nats.ts",
    permissions: ["--allow-net=127.0.0.1", "--allow-env=NATS_URL"],
  },
  {
    name: "postgres",
    file: "scripts/bench/postgres.ts",
    // env: pg and postgres read the PG* variables; sys: postgres reads the host name.
    permissions: ["--allow-net=127.0.0.1", "--allow-env", "--allow-sys=hostname"],
  },
  {
    name: "websocket",
    file: "scripts/bench/websocket.ts",
    permissions: ["--allow-net=127.0.0.1", "--allow-env", "--allow-read"],
  },
  {
    name: "websocket-inbound",
    file: "scripts/bench/websocket_inbound.ts",
    permissions: ["--allow-net=127.0.0.1"],
  },
  {
    name: "iroh",
    file: "scripts/bench/iroh.ts",
    permissions: [
      "--allow-ffi",
      "--allow-read=.,/usr/bin/ldd",
      "--allow-env=CI,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI,BENCH_ROUNDS,BENCH_PINGS,BENCH_IROH,BENCH_PER_SPOKE,BENCH_RECONNECTS",
    ],
  },
  {
    // Imports iroh_hub.ts's endpoint helpers, which read iroh's BENCH_* variables.
    name: "iroh-inbound",
    file: "scripts/bench/iroh_inbound.ts",
    permissions: [
      "--allow-ffi",
      "--allow-read=.,/usr/bin/ldd",
      "--allow-env=CI,NAPI_RS_NATIVE_LIBRARY_PATH,NAPI_RS_FORCE_WASI,BENCH_ROUNDS,BENCH_PINGS,BENCH_IROH,BENCH_PER_SPOKE,BENCH_RECONNECTS",
    ],
  },
  { name: "worker", file: "scripts/bench/worker.ts", permissions: ["--allow-read", "--allow-env"] },
  { name: "schemas", file: "scripts/bench/schemas.ts", permissions: ["--allow-net=127.0.0.1", "--allow-read"] },
  {
    // Spawns its helpers (the deno binary) with their own flags: hub_server.ts with --allow-net=127.0.0.1 and
    // --allow-env (ioredis), hub_clients.ts with --allow-net=127.0.0.1 only.
    name: "hub",
    file: "scripts/bench/hub.ts",
    permissions: [
      // cat reads /proc/<pid>/{stat,status}: Deno wants --allow-all for /proc; node and bun (tools/) run the
      // runtimes section's servers from the npm package.
      `--allow-run=${Deno.execPath()},cat,node,tools/node_modules/.bin/bun,${bunPath()}`,
      "--allow-env=BENCH_QUICK,BENCH_HUB_ONLY,BENCH_HUB_CLIENTS",
    ],
  },
  {
    name: "idle-rss",
    file: "scripts/bench/idle_rss.ts",
    permissions: [
      // As hub's: the npm package's server under Bun (or Node), /proc/<pid>/status through cat.
      `--allow-run=${Deno.execPath()},cat,node,tools/node_modules/.bin/bun,${bunPath()}`,
      "--allow-env=IDLE_RSS_CONNECTIONS,IDLE_RSS_REPS,IDLE_RSS_RUNTIME,IDLE_RSS_HEAP,IDLE_RSS_MODES,IDLE_RSS_BASELINE," +
      "IDLE_RSS_SETTLE_MS",
    ],
  },
];

/** The real path of tools/'s bun binary (what --allow-run matches), or the link if it is not installed. */
function bunPath(): string {
  try {
    return Deno.realPathSync(new URL("tools/node_modules/.bin/bun", root));
  } catch {
    return "tools/node_modules/.bin/bun";
  }
}

const wanted = new Set(Deno.args);
let failures = 0;
for (const bench of benches) {
  if (wanted.size > 0 && !wanted.has(bench.name)) continue;
  try {
    Deno.statSync(new URL(bench.file, root));
  } catch {
    console.log(`\n=== ${bench.name}: skipped (${bench.file} does not exist yet)`);
    continue;
  }
  console.log(`\n=== ${bench.name}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...bench.permissions, bench.file],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) failures++;
}
Deno.exit(failures === 0 ? 0 : 1);
