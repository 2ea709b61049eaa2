/** Who is calling, from a verified token. */
export interface Principal {
  sub: string;
  role: string | null;
  scopes: string[];
}
