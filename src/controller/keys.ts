/** Work-queue keys: a project's id, or {@link FULL} for a pass over every project. */

/** Queue key of a full resync (project keys are UUIDs). */
export const FULL = '*';
