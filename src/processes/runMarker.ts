/**
 * Name of the environment variable that marks every process of one worker's codex runs (codex
 * and the commands it starts inherit it), so a sweep finds them even once reparented to init.
 */
export const RUN_MARKER_VAR = "CODEX_TASKS_RUN_ID"
