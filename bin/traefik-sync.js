#!/usr/bin/env node
// Entry point installed as `traefik-sync`; the compiled CLI lives in dist/ (built by `npm ci`/`npm run build`).
// libuv's thread pool runs every file operation; it starts with the first one (loading the CLI
// already does), so its size is set before: 16 threads instead of 4, so that a project pass's few
// reads and writes do not queue behind a full pass's (at most 12 reads and 8 projects' writes).
process.env.UV_THREADPOOL_SIZE ??= '16';
const { main } = await import('../dist/cli/main.js');

// A reader that goes away (`traefik-sync diff | head`, also `2>&1 | head`) is not an error: the command still
// finishes (nothing it started is cut short) with its own exit code; the rest of its output is
// dropped. Without this, Node throws an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`traefik-sync: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
