// har-validator (a devDependency, for the HAR export's test) ships without types: the part used.
declare module 'har-validator' {
  /** Rejects with an error whose `errors` are ajv's, one per rule the data breaks. */
  const validate: { har(data: unknown): Promise<unknown> };
  export default validate;
}
