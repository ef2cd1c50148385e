/**
 * The PII attributes Veil knows. Each is encrypted on its own in the vault; downstream systems see
 * only the names of the attributes an inquiry has, never the values.
 * `referenceId` (the customer's own id for the person) travels at the top of `inquiry.created`
 * but is vaulted like the rest.
 */
export const PII_ATTRIBUTES = [
  'referenceId',
  'nameFirst',
  'nameMiddle',
  'nameLast',
  'birthdate',
  'addressStreet1',
  'addressStreet2',
  'addressCity',
  'addressSubdivision',
  'addressPostalCode',
  'addressCountryCode',
  'emailAddress',
  'phoneNumber',
  'identificationNumber',
  'identificationType',
  'documentFiles',
  'selfieFiles',
] as const;

export type PiiAttribute = (typeof PII_ATTRIBUTES)[number];

export function isPiiAttribute(name: string): name is PiiAttribute {
  return (PII_ATTRIBUTES as readonly string[]).includes(name);
}
