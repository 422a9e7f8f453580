/** Every command, registered: import this (not cli.ts) to get the full CLI. */
import './run.js';

export { main } from './cli.js';
