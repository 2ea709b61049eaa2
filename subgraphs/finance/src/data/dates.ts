/**
 * A `date` column as "YYYY-MM-DD". The pg driver returns the string, but PGlite ignores the
 * platform's date parser and returns a Date at UTC midnight; both are read here so a calendar
 * date never shifts through local time.
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
