import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '..', 'operations');

/** A registered client operation from schema/operations/, by file name without extension. */
export function operation(name: string): string {
  return readFileSync(join(DIR, `${name}.graphql`), 'utf8');
}
