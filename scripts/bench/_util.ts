/** Small helpers shared by the benchmarks. Not part of the package. */

/** Runs `fn` `runs` times after `warmup` runs and returns the median time in ms. */
export async function medianMs(fn: () => Promise<void> | void, runs = 5, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Formats a rate. */
export function rate(events: number, ms: number): string {
  return `${Math.round(events / (ms / 1000)).toLocaleString("en-US")}/s`;
}

/** A measured row: its name, how many events it delivered, and the (median) time it took in ms. */
export interface Row {
  name: string;
  events: number;
  ms: number;
}

/** Prints rows as rates with their ratio to the first row (the baseline). */
export function printRates(title: string, rows: Row[]): void {
  const [base] = rows;
  const baseRate = base.events / base.ms;
  console.log(`\n${title}`);
  for (const { name, events, ms } of rows) {
    const r = events / ms;
    console.log(`  ${name.padEnd(46)} ${rate(events, ms).padStart(14)}  ${(r / baseRate).toFixed(2)}× baseline`);
  }
}

/** The repository's root. */
export const REPO: string = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** Where the benches that run the npm package (on Node and Bun) build it. */
export const NPM_SCRATCH: string = `${REPO}/.tmp/bench-npm`;
/** Bun from tools/ (the npm package `bun`). */
export const BUN: string = `${REPO}/tools/node_modules/.bin/bun`;

/** Builds the npm package into NPM_SCRATCH (scripts/npm_scratch.ts), with `extra` npm packages installed beside it. */
export async function buildNpmScratch(extra: string[] = []): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-write=npm,.tmp",
      "--allow-env",
      `${REPO}/scripts/npm_scratch.ts`,
      NPM_SCRATCH,
      ...extra,
    ],
    cwd: REPO,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`npm_scratch.ts exited with ${code}: ${new TextDecoder().decode(stderr)}`);
}
