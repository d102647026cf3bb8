// How every store reads a timestamptz back: ISO 8601 in UTC with milliseconds, formatted by the
// database (so PostgreSQL and PGlite give the same text, and the hub never parses a Date to print it).
export const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
