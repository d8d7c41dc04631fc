// Every screen but sign-in, and the offline sync: loaded beside the sign-in page, not before it, so a
// phone on a slow network can sign in while the rest arrives.
export { Home } from "./home.js";
export { Screening } from "./screening.js";
export { Result } from "./result.js";
export { Refer } from "./refer.js";
export { MyReferrals } from "./referrals.js";
export { Inbox } from "./inbox.js";
export { PrintSheet } from "./print.js";
export { Offline } from "./offline.js";
export { GroupResults, Practice, TrainerHome, TrainingHome } from "./training.js";
export { startSync } from "../sync.js";
