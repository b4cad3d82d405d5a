/**
 * Moved to `processes/` (identity and /proc reading); kept only until `worker/Worker.ts` takes its
 * own identity from there.
 */
export type { ProcessIdentity } from "../processes/identity.js"
export { identityOf as processIdentity } from "../processes/procfs.js"
