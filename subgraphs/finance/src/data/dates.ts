/**
 * A `date` column as "YYYY-MM-DD". Both drivers now return the string (the platform passes its
 * parsers to PGlite per query); the Date branch is a leftover guard from before that fix, kept
 * until the call sites are cleaned up, so a calendar date can never shift through local time.
 */
export function calendarDate(value: string | Date): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value;
}

/** The row with its listed `date` columns as "YYYY-MM-DD". */
export function withCalendarDates<T extends object>(row: T, columns: readonly (keyof T)[]): T {
  const copy = { ...row };
  for (const column of columns) {
    const value = copy[column];
    if (typeof value === 'string' || value instanceof Date) copy[column] = calendarDate(value) as T[keyof T];
  }
  return copy;
}
