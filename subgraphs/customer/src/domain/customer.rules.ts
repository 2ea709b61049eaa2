import { CountryCodeResolver } from 'graphql-scalars';
import { DomainError, isUuid } from '@c2c/platform/core';
import { isEmailAddress } from '@c2c/platform/graphql';

export const CUSTOMER_STATUSES = ['ACTIVE', 'SUSPENDED', 'CLOSED'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

/** A customer id is a UUID; anything else cannot name a customer. */
export function parseCustomerId(value: string, field: string): string {
  if (!isUuid(value)) {
    throw new DomainError('CUSTOMER_NOT_FOUND', `no customer ${JSON.stringify(value)}`, field);
  }
  return value.toLowerCase();
}

export function isCustomerId(value: string): boolean {
  return isUuid(value);
}

export function validateEmail(value: string): string {
  if (isEmailAddress(value)) return value;
  throw new DomainError('INVALID_EMAIL', 'not an e-mail address such as ap@example.com', 'email');
}

export function validateCountry(value: string): string {
  try {
    return CountryCodeResolver.parseValue(value) as string;
  } catch {
    throw new DomainError(
      'INVALID_COUNTRY',
      `${JSON.stringify(value)} is not an ISO 3166-1 alpha-2 country code`,
      'country',
    );
  }
}

export function validateStatus(value: string): CustomerStatus {
  if ((CUSTOMER_STATUSES as readonly string[]).includes(value)) return value as CustomerStatus;
  throw new DomainError('INVALID_STATUS', `status must be one of ${CUSTOMER_STATUSES.join(', ')}`, 'status');
}
