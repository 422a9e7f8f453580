#!/usr/bin/env node
// Entry point installed as `traefik-sync`; the compiled CLI lives in dist/ (built by `npm ci`/`npm run build`).
import { main } from '../dist/commands.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`traefik-sync: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 2; },
);
