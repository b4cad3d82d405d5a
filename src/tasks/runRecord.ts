/** Moved to `store/runRecord.ts` (TaskStore methods); kept only until `worker/Worker.ts` uses those. */
export { writeRunRecord } from "../store/runRecord.js"
