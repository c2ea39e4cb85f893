import type { Language } from '../generated/prisma/enums.js';

export interface PartnerInput {
  legalName: string;
  registrationNumber: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  businessRepresentative?: string | null;
}

export interface ContactInput {
  name: string;
  email: string;
  /** E.164, already validated. */
  mobile: string;
  language: Language;
}

export interface PartnerView {
  id: string;
  legalName: string;
  registrationNumber: string;
  country: string;
  businessRepresentative: string | null;
}

export interface ContactView {
  id: string;
  partnerId: string;
  name: string;
  email: string;
  mobile: string;
  language: Language;
  /**
   * False while an application's new contact for an already known partner waits for a second reviewer:
   * until then it is not one of the partner's contacts.
   */
  attached: boolean;
}
