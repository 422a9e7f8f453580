/** Stopping a spawned child process a test left running (e.g. when an assertion failed first): src/util.ts. */
export { stopChild } from '../../src/util.js';
