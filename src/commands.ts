/** Every command, registered: import this (not cli.ts) to get the full CLI. */
import './run.js';
import './demo.js';
import './config-service/commands.js';

export { main } from './cli.js';
