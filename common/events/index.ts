export * from './schema.ts';
export * from './codec.ts';
export * from './canonical-json.ts';
export * from './session-event-encoder.ts';
