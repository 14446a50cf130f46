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
  { name: "worker", file: "scripts/bench/worker.ts", permissions: ["--allow-read", "--allow-env"] },
  {
    // Spawns its helpers (the deno binary) with their own flags: hub_server.ts with --allow-net=127.0.0.1 and
    // --allow-env (ioredis), hub_clients.ts with --allow-net=127.0.0.1 only.
    name: "hub",
    file: "scripts/bench/hub.ts",
    permissions: [
      `--allow-run=${Deno.execPath()},cat`, // cat reads /proc/<pid>/{stat,status}: Deno wants --allow-all for /proc
      "--allow-env=BENCH_QUICK,BENCH_HUB_ONLY",
    ],
  },
];

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
