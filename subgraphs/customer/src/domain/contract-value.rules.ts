/** Annual contract value: seats × unit price × periods per year. */
export function annualValueMinor(
  seats: number,
  unitPriceMinor: number,
  billingPeriod: 'MONTH' | 'YEAR',
): number {
  return seats * unitPriceMinor * (billingPeriod === 'MONTH' ? 12 : 1);
}
