// Who sees the console: known to the home screen without loading the console itself (charts and all).
export const CONSOLE_ROLES = ["coordinator", "reporter"];
export const hasConsole = (user) => user.roles.some((r) => CONSOLE_ROLES.includes(r));
