// Who screens people: the gateway's FRONTLINE roles (putokaz/roles.py). Only they read questionnaires,
// keep drafts and queue screenings offline; every other role would be refused (403) on those routes.
export const SCREENING_ROLES = ["police", "social_worker"];
export const screensPeople = (user) => Boolean(user?.roles?.some((r) => SCREENING_ROLES.includes(r)));
