/** Exit statuses shared by every command. */
export const EXIT_OK = 0;
/** The input was read but judged invalid (e.g. a SIP message a server would reject). */
export const EXIT_INVALID = 1;
/** The command line itself was wrong. */
export const EXIT_USAGE = 2;
